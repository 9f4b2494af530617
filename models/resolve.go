package models

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/olm-dev/olm/gguf"
)

// Resolver turns a user's model name into a Ref.
type Resolver struct {
	Catalog *Catalog
	Env     Env
	// Lister lists HF repos for hf.co names that give no file; nil (offline)
	// falls back to the files already in the hub cache.
	Lister Lister
}

// Resolve accepts, in this order:
//
//	./x.gguf, /abs/x.gguf      an existing GGUF file
//	hf.co/OWNER/REPO[:QUANT|:FILE.gguf]   (also huggingface.co/..., https://huggingface.co/...,
//	                           and .../resolve/REV/FILE URLs)
//	ollama:NAME[:TAG]          a model pulled by ollama
//	NAME                       an `olm import` name
//	ID-or-ALIAS[:QUANT]        a catalog model, e.g. mistral, mistral-7b-instruct-v0.2:q5_k_m
//	OWNER/REPO[:QUANT|:FILE]   an HF repo, when no such local path exists
func (r Resolver) Resolve(ctx context.Context, name string) (Ref, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return Ref{}, errors.New("empty model name: give a catalog name (olm catalog), hf.co/OWNER/REPO or a .gguf path")
	}
	if rest, ok := cutHFPrefix(name); ok {
		return r.resolveHF(ctx, rest)
	}
	if rest, ok := strings.CutPrefix(name, "ollama:"); ok {
		return resolveOllama(r.Env.OllamaModels, rest)
	}
	if ref, ok, err := resolvePath(name); ok || err != nil {
		return ref, err
	}
	base, quant, _ := strings.Cut(name, ":")
	if imp, ok, err := lookupImport(r.Env, name); err != nil {
		return Ref{}, err
	} else if ok {
		return Ref{Name: name, Source: SourceImport, Path: imp.Path}, nil
	}
	if r.Catalog != nil {
		if m, ok := r.Catalog.Lookup(base); ok {
			return catalogRef(m, quant)
		}
	}
	if strings.Count(base, "/") == 1 && !strings.HasPrefix(base, "/") && !strings.HasSuffix(base, "/") {
		return r.resolveHF(ctx, name)
	}
	return Ref{}, r.unknown(name)
}

// cutHFPrefix strips the Hugging Face host forms.
func cutHFPrefix(name string) (string, bool) {
	for _, p := range []string{"https://huggingface.co/", "http://huggingface.co/", "https://hf.co/",
		"huggingface.co/", "hf.co/"} {
		if rest, ok := strings.CutPrefix(name, p); ok {
			return rest, true
		}
	}
	return name, false
}

// resolvePath reports ok when name is meant as a local path. Explicit paths (./ ../ / ~/
// and *.gguf) always are; a name with a slash is when something exists there, so an
// existing local bad/adir wins over a Hugging Face repo of that name and gets a clear error.
// Bare names (mistral) stay catalog names even if a file of that name is lying around,
// unless it is a GGUF.
func resolvePath(name string) (Ref, bool, error) {
	p := name
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			p = filepath.Join(home, rest)
		}
	}
	explicit := strings.HasPrefix(name, "/") || strings.HasPrefix(name, "./") ||
		strings.HasPrefix(name, "../") || strings.HasPrefix(name, "~/") ||
		(strings.HasSuffix(strings.ToLower(name), ".gguf") && !strings.Contains(name, ":"))
	if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
		if explicit {
			return Ref{}, true, fmt.Errorf("no such file %s: check the path, or give a catalog name (olm catalog)", name)
		}
		return Ref{}, false, nil
	}
	meant := explicit || strings.Contains(name, "/")
	// gguf.Stat names a directory, a symlink loop or a dangling link, a FIFO or a device.
	if _, err := gguf.Stat(p); err != nil {
		if !meant {
			return Ref{}, false, nil
		}
		return Ref{}, true, err
	}
	if err := checkModel(p); err != nil {
		if meant {
			return Ref{}, true, err
		}
		return Ref{}, false, nil // a stray file named like a model: not meant
	}
	abs, _ := filepath.Abs(p)
	return Ref{Name: abs, Source: SourceFile, Path: abs}, true, nil
}

// catalogRef picks a quant of a catalog model.
func catalogRef(m *Model, quant string) (Ref, error) {
	q := strings.ToLower(quant)
	if q == "" {
		q = m.DefaultQuant
	}
	f, ok := m.Files[q]
	if !ok {
		return Ref{}, fmt.Errorf("%s has no quant %q: available %s (e.g. %s:%s)",
			m.ID, quant, strings.Join(m.Quants(), ", "), m.ID, m.DefaultQuant)
	}
	ref := Ref{
		Name:     m.ID + ":" + q,
		Source:   SourceCatalog,
		Model:    m,
		Repo:     m.Repo,
		Revision: m.Rev(),
		Quant:    q,
		Files:    []string{f.Name},
		Expect:   &f,
	}
	return ref, nil
}

// ErrUnknownModel is wrapped by the error for a name that is no catalog model, import,
// hf.co reference or file.
var ErrUnknownModel = errors.New("unknown model")

// unknown builds the "did you mean" error.
func (r Resolver) unknown(name string) error {
	base, _, _ := strings.Cut(name, ":")
	var names []string
	if r.Catalog != nil {
		names = r.Catalog.Names()
	}
	if imps, err := loadImports(r.Env); err == nil {
		for n := range imps {
			names = append(names, n)
		}
	}
	hint := "see olm catalog, or use hf.co/OWNER/REPO or a .gguf path"
	if s := suggest(strings.ToLower(base), names, 3); len(s) > 0 {
		return fmt.Errorf("%w %q: did you mean %s? (%s)", ErrUnknownModel, name, strings.Join(s, ", "), hint)
	}
	return fmt.Errorf("%w %q: %s", ErrUnknownModel, name, hint)
}
