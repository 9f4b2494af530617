package models

import (
	"context"
	"errors"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/olm-dev/olm/download"
)

// resolveHF handles OWNER/REPO[:QUANT|:FILE.gguf] and
// OWNER/REPO/(resolve|blob)/REV/FILE (the prefix is already cut).
func (r Resolver) resolveHF(ctx context.Context, s string) (Ref, error) {
	repo, sel, _ := strings.Cut(s, ":")
	rev := "main"
	parts := strings.Split(repo, "/")
	if len(parts) >= 5 && (parts[2] == "resolve" || parts[2] == "blob") {
		repo, rev, sel = parts[0]+"/"+parts[1], parts[3], strings.Join(parts[4:], "/")
	} else if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		return Ref{}, fmt.Errorf("bad Hugging Face name %q: want hf.co/OWNER/REPO[:QUANT|:FILE.gguf]", s)
	}
	if at := strings.LastIndex(repo, "@"); at > 0 {
		repo, rev = repo[:at], repo[at+1:]
	}
	ref := Ref{Source: SourceHF, Repo: repo, Revision: rev}
	if r.Catalog != nil {
		ref.Model, _ = r.Catalog.ByRepo(repo)
	}

	var (
		files []string
		err   error
	)
	if strings.HasSuffix(strings.ToLower(sel), ".gguf") {
		files, err = splitParts(repo, nil, sel) // a named file needs no listing
		if err != nil {
			return Ref{}, err
		}
	} else {
		var unsafe []download.RemoteFile
		files, unsafe, err = r.listGGUF(ctx, repo, rev)
		if err != nil {
			return Ref{}, err
		}
		for _, u := range unsafe {
			// Asked for by quant and only an unsafe file has it: that file is the answer, refused.
			if sel != "" && strings.EqualFold(quantOf(u.Path), sel) && matchQuant(files, sel) == "" {
				return Ref{}, fmt.Errorf("%s: %w", repo, u.Unsafe)
			}
		}
		files, err = pickHF(repo, files, sel)
		if err != nil {
			return Ref{}, err
		}
		for _, u := range unsafe {
			ref.Warnings = append(ref.Warnings, fmt.Sprintf("skipped a file of %s's listing: %v", repo, u.Unsafe))
		}
	}
	ref.Files = files
	ref.Quant = quantOf(files[0])
	ref.Name = "hf.co/" + repo + ":" + path.Base(files[0])
	if rev != "main" {
		ref.Name = "hf.co/" + repo + "@" + rev + ":" + path.Base(files[0])
	}
	if ref.Model != nil && len(files) == 1 {
		for q, f := range ref.Model.Files {
			if f.Name == files[0] {
				f := f
				ref.Expect, ref.Quant = &f, q
			}
		}
	}
	return ref, nil
}

// listGGUF lists the repo's GGUF files, online if possible, else from the
// hub cache so already-pulled repos resolve offline. GGUF entries with an
// unsafe name are left out of the list and returned apart.
func (r Resolver) listGGUF(ctx context.Context, repo, rev string) ([]string, []download.RemoteFile, error) {
	var names []string
	var unsafe []download.RemoteFile
	var onlineErr error
	if r.Lister != nil {
		rfs, err := r.Lister.List(ctx, repo, rev)
		if err == nil {
			for _, f := range rfs {
				switch {
				case f.Unsafe == nil:
					names = append(names, f.Path)
				case strings.HasSuffix(strings.ToLower(f.Path), ".gguf"):
					unsafe = append(unsafe, f)
				}
			}
		}
		onlineErr = err
	}
	if r.Lister == nil || onlineErr != nil {
		local, err := r.Env.Store().SnapshotFiles(repo, rev)
		switch {
		case err == nil:
			names = local
		case onlineErr != nil:
			return nil, nil, fmt.Errorf("list %s: %w", repo, onlineErr)
		case errors.Is(err, ErrNotLocal):
			return nil, nil, fmt.Errorf("%s is not in the local cache and olm is offline: name the file (hf.co/%s:FILE.gguf) or go online", repo, repo)
		default:
			return nil, nil, fmt.Errorf("list %s: %w", repo, err)
		}
	}
	var ggufs []string
	for _, n := range names {
		// mmproj files are vision projectors, not models (llama.cpp skips them too).
		if strings.HasSuffix(strings.ToLower(n), ".gguf") && !strings.Contains(strings.ToLower(path.Base(n)), "mmproj") {
			ggufs = append(ggufs, n)
		}
	}
	sort.Strings(ggufs)
	if len(ggufs) == 0 {
		return nil, nil, fmt.Errorf("%s@%s has no .gguf files: pick a GGUF repo (their names usually end in -GGUF)", repo, rev)
	}
	return ggufs, unsafe, nil
}

// pickHF chooses files like llama.cpp's -hf: the named quant, else Q4_K_M,
// else Q8_0, else the first GGUF; split files come with all their parts.
func pickHF(repo string, files []string, quant string) ([]string, error) {
	tags := []string{quant}
	if quant == "" {
		tags = []string{"Q4_K_M", "Q8_0"}
	}
	var first string
	for _, t := range tags {
		if first = matchQuant(files, t); first != "" {
			break
		}
	}
	switch {
	case first == "" && quant != "":
		qs := quantsOf(files)
		return nil, fmt.Errorf("%s has no quant %s: available %s (e.g. hf.co/%s:%s)",
			repo, quant, strings.Join(qs, ", "), repo, qs[0])
	case first == "":
		first = files[0]
	}
	return splitParts(repo, files, first)
}

// matchQuant returns the first file whose quant tag equals t (any case),
// preferring the first part of a split file.
func matchQuant(files []string, t string) string {
	for _, f := range files {
		if strings.EqualFold(quantOf(f), t) {
			return f
		}
	}
	return ""
}

var (
	splitRe = regexp.MustCompile(`^(.*)-(\d{5})-of-(\d{5})\.gguf$`)
	quantRe = regexp.MustCompile(`(?i)[-._]((?:i?q\d+(?:_[a-z0-9]+)*)|bf16|f16|f32)$`)
)

// quantOf extracts a quant tag like Q4_K_M from a file name, keeping its case.
func quantOf(f string) string {
	b := path.Base(f)
	if m := splitRe.FindStringSubmatch(b); m != nil {
		b = m[1]
	} else {
		b = strings.TrimSuffix(b, path.Ext(b))
	}
	if m := quantRe.FindStringSubmatch(b); m != nil {
		return m[1]
	}
	return ""
}

func quantsOf(files []string) []string {
	seen := map[string]bool{}
	var qs []string
	for _, f := range files {
		q := quantOf(f)
		if q == "" {
			q = path.Base(f)
		}
		if !seen[strings.ToUpper(q)] {
			seen[strings.ToUpper(q)] = true
			qs = append(qs, q)
		}
	}
	return qs
}

// splitParts expands part k of an N-part GGUF into all N parts, in order, and
// fails if a listing is given and lacks one (a half-uploaded repo).
func splitParts(repo string, files []string, f string) ([]string, error) {
	m := splitRe.FindStringSubmatch(f)
	if m == nil {
		return []string{f}, nil
	}
	n, _ := strconv.Atoi(m[3])
	have := map[string]bool{}
	for _, x := range files {
		have[x] = true
	}
	parts := make([]string, 0, n)
	for i := 1; i <= n; i++ {
		p := fmt.Sprintf("%s-%05d-of-%s.gguf", m[1], i, m[3])
		if files != nil && !have[p] {
			return nil, fmt.Errorf("%s: split model %s lacks part %d of %d: the repo may still be uploading", repo, path.Base(f), i, n)
		}
		parts = append(parts, p)
	}
	return parts, nil
}
