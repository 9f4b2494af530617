package models

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// OllamaModel is a model pulled by ollama whose weights blob is a GGUF that
// olm can load in place.
type OllamaModel struct {
	Name string // as ollama prints it: llama2:latest, user/x:tag, host/ns/x:tag
	Path string // blobs/sha256-<hex>
	Size int64
}

const ollamaModelMedia = "application/vnd.ollama.image.model"

// OllamaModels walks manifests/HOST/NAMESPACE/NAME/TAG under dir. A missing
// dir is not an error: most machines have no ollama.
func OllamaModels(dir string) ([]OllamaModel, error) {
	if dir == "" {
		return nil, nil
	}
	root := filepath.Join(dir, "manifests")
	var out []OllamaModel
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		parts := strings.Split(filepath.ToSlash(rel), "/")
		if len(parts) != 4 {
			return nil
		}
		m, err := readOllamaManifest(dir, p)
		if err != nil {
			return nil // a manifest without a GGUF layer (or half-written): not ours to run
		}
		m.Name = ollamaName(parts)
		out = append(out, m)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scan ollama models: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// ollamaName shortens host/ns/name/tag the way ollama list does.
func ollamaName(parts []string) string {
	host, ns, name, tag := parts[0], parts[1], parts[2], parts[3]
	switch {
	case host == "registry.ollama.ai" && ns == "library":
		return name + ":" + tag
	case host == "registry.ollama.ai":
		return ns + "/" + name + ":" + tag
	}
	return host + "/" + ns + "/" + name + ":" + tag
}

func readOllamaManifest(dir, path string) (OllamaModel, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return OllamaModel{}, err
	}
	var man struct {
		Layers []struct {
			MediaType string `json:"mediaType"`
			Digest    string `json:"digest"`
			Size      int64  `json:"size"`
		} `json:"layers"`
	}
	if err := json.Unmarshal(b, &man); err != nil {
		return OllamaModel{}, err
	}
	for _, l := range man.Layers {
		hex, ok := strings.CutPrefix(l.Digest, "sha256:")
		if l.MediaType != ollamaModelMedia || !ok || !isHex(hex, 64) {
			continue
		}
		blob := filepath.Join(dir, "blobs", "sha256-"+hex)
		if err := checkModel(blob); err != nil {
			return OllamaModel{}, err
		}
		return OllamaModel{Path: blob, Size: l.Size}, nil
	}
	return OllamaModel{}, errors.New("no model layer")
}

// resolveOllama finds NAME[:TAG] (default tag latest) among ollama's models.
func resolveOllama(dir, name string) (Ref, error) {
	if !strings.Contains(lastSegment(name), ":") {
		name += ":latest"
	}
	ms, err := OllamaModels(dir)
	if err != nil {
		return Ref{}, err
	}
	var names []string
	for _, m := range ms {
		if m.Name == name {
			return Ref{Name: "ollama:" + m.Name, Source: SourceOllama, Path: m.Path}, nil
		}
		names = append(names, m.Name)
	}
	if len(names) == 0 {
		return Ref{}, fmt.Errorf("no ollama models in %s: pull with ollama first, or set OLLAMA_MODELS", dir)
	}
	msg := fmt.Sprintf("ollama has no model %q", name)
	if s := suggest(name, names, 3); len(s) > 0 {
		return Ref{}, fmt.Errorf("%s: did you mean ollama:%s?", msg, strings.Join(s, ", ollama:"))
	}
	return Ref{}, fmt.Errorf("%s: have %s", msg, strings.Join(names, ", "))
}

// lastSegment drops any host:port/namespace prefix so only the tag's colon counts.
func lastSegment(name string) string {
	if i := strings.LastIndex(name, "/"); i >= 0 {
		return name[i+1:]
	}
	return name
}
