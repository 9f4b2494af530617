package models

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/olm-dev/olm/gguf"
)

// fakeOllama builds ~/.ollama/models with one GGUF model, one manifest
// without a model layer, and a user-namespace model.
func fakeOllama(t *testing.T, dir string) string {
	t.Helper()
	gguf := filepath.Join(t.TempDir(), "w.gguf")
	size := writeGGUF(t, gguf, tinyGGUF{})
	content := readAll(t, gguf)
	hex := sha256Hex(content)
	os.MkdirAll(filepath.Join(dir, "blobs"), 0o755)
	os.WriteFile(filepath.Join(dir, "blobs", "sha256-"+hex), content, 0o644)
	man := func(layers ...map[string]any) []byte {
		b, _ := json.Marshal(map[string]any{"schemaVersion": 2, "layers": layers})
		return b
	}
	model := map[string]any{"mediaType": "application/vnd.ollama.image.model", "digest": "sha256:" + hex, "size": size}
	tmpl := map[string]any{"mediaType": "application/vnd.ollama.image.template", "digest": "sha256:" + strings.Repeat("0", 64), "size": 10}
	write := func(rel string, b []byte) {
		p := filepath.Join(dir, "manifests", filepath.FromSlash(rel))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, b, 0o644)
	}
	write("registry.ollama.ai/library/llama2/latest", man(tmpl, model))
	write("registry.ollama.ai/someone/tiny/q4", man(model))
	write("registry.ollama.ai/library/notmodel/latest", man(tmpl))
	return filepath.Join(dir, "blobs", "sha256-"+hex)
}

func TestOllamaDiscovery(t *testing.T) {
	dir := t.TempDir()
	blob := fakeOllama(t, dir)
	ms, err := OllamaModels(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].Name != "llama2:latest" || ms[1].Name != "someone/tiny:q4" || ms[0].Path != blob {
		t.Fatalf("models %+v", ms)
	}
	r := Resolver{Env: Env{OllamaModels: dir}}
	ref, err := r.Resolve(context.Background(), "ollama:llama2")
	if err != nil || ref.Path != blob || ref.Source != SourceOllama || ref.Name != "ollama:llama2:latest" {
		t.Fatalf("resolve %+v %v", ref, err)
	}
	if _, err := r.Resolve(context.Background(), "ollama:lama2"); err == nil || !strings.Contains(err.Error(), "did you mean ollama:llama2:latest") {
		t.Errorf("typo: %v", err)
	}
	if ms, err := OllamaModels(filepath.Join(dir, "absent")); err != nil || len(ms) != 0 {
		t.Errorf("absent dir: %v %v", ms, err)
	}
}

func TestImport(t *testing.T) {
	dir := t.TempDir()
	env := Env{OlmHome: filepath.Join(dir, "olm")}
	bad := filepath.Join(dir, "weights.bin")
	os.WriteFile(bad, []byte("PK\x03\x04 not a gguf"), 0o644)
	if _, err := Import(env, bad, "x"); !errors.Is(err, gguf.ErrNotGGUF) {
		t.Fatalf("non-GGUF: %v", err)
	}
	old := filepath.Join(dir, "old.bin")
	os.WriteFile(old, []byte("tjgg...."), 0o644)
	if _, err := Import(env, old, "x"); err == nil || !strings.Contains(err.Error(), "old GGML") {
		t.Fatalf("ggml: %v", err)
	}
	good := filepath.Join(dir, "My-Model.Q4_K_M.gguf")
	writeGGUF(t, good, tinyGGUF{})
	if _, err := Import(env, good, "bad name"); err == nil {
		t.Error("name with a space accepted")
	}
	imp, err := Import(env, good, "")
	if err != nil || imp.Path != good {
		t.Fatalf("import: %+v %v", imp, err)
	}
	imps, _ := Imports(env)
	if _, ok := imps["My-Model.Q4_K_M"]; !ok {
		t.Errorf("default name missing: %v", imps)
	}
	if err := Unimport(env, "My-Model.Q4_K_M"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(good); err != nil {
		t.Error("unimport deleted the file")
	}
	if err := Unimport(env, "My-Model.Q4_K_M"); err == nil {
		t.Error("unimport twice succeeded")
	}
}

func TestListAndCatalogRows(t *testing.T) {
	dir := t.TempDir()
	env := Env{HubCache: filepath.Join(dir, "hub"), OlmHome: filepath.Join(dir, "olm"), OllamaModels: filepath.Join(dir, "ollama")}
	fakeOllama(t, env.OllamaModels)
	cat, _ := LoadCatalog()
	st := env.Store()
	// A catalog file and a split hf file in the hub cache, as huggingface_hub lays them out.
	commit := strings.Repeat("e", 40)
	put := func(repo, file, content string) {
		sum := sha256Hex([]byte(content))
		os.MkdirAll(st.BlobPath(repo, ""), 0o755)
		os.WriteFile(st.BlobPath(repo, sum), []byte(content), 0o644)
		if _, err := st.Link(repo, commit, file, sum); err != nil {
			t.Fatal(err)
		}
		st.WriteRef(repo, "main", commit)
	}
	put("TheBloke/TinyLlama-1.1B-Chat-v1.0-GGUF", "tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf", "tiny")
	put("o/r", "m-Q6_K-00001-of-00002.gguf", "part1")
	put("o/r", "m-Q6_K-00002-of-00002.gguf", "part2!")
	put("o/r", "README.md", "readme")
	imp := filepath.Join(dir, "i.gguf")
	writeGGUF(t, imp, tinyGGUF{})
	Import(env, imp, "mine")

	ls, err := List(env, cat)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Local{}
	for _, l := range ls {
		got[l.Name] = l
	}
	if len(ls) != 5 {
		t.Errorf("list %+v", ls)
	}
	if l := got["tinyllama-1.1b-chat:q4_k_m"]; l.Source != SourceCatalog || l.Size != 4 || l.Quant != "q4_k_m" {
		t.Errorf("catalog entry %+v", l)
	}
	if l := got["hf.co/o/r:m-Q6_K-00001-of-00002.gguf"]; l.Source != SourceHF || l.Size != 11 || l.Quant != "q6_k" {
		t.Errorf("split entry %+v", l)
	}
	if l := got["mine"]; l.Source != SourceImport || l.Path != imp {
		t.Errorf("import %+v", l)
	}
	if l := got["ollama:llama2:latest"]; l.Source != SourceOllama || l.Size == 0 {
		t.Errorf("ollama %+v", l)
	}

	rows := cat.Rows(st)
	var local, approx int
	for _, r := range rows {
		if r.Local {
			local++
			if r.Name != "tinyllama-1.1b-chat:q4_k_m" || !r.Default || r.Size != 668788096 {
				t.Errorf("local row %+v", r)
			}
		}
		if r.SizeApprox {
			approx++
		}
	}
	if local != 1 || approx != 2 || len(rows) < 30 {
		t.Errorf("rows: %d local, %d approx, %d total", local, approx, len(rows))
	}
}

func TestEnvFromOS(t *testing.T) {
	t.Setenv("HOME", "/h")
	for _, k := range []string{"HF_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME", "OLM_HOME", "XDG_DATA_HOME", "OLLAMA_MODELS"} {
		t.Setenv(k, "")
	}
	e, err := EnvFromOS()
	if err != nil || e.HubCache != "/h/.cache/huggingface/hub" || e.OlmHome != "/h/.local/share/olm" || e.OllamaModels != "/h/.ollama/models" {
		t.Fatalf("defaults %+v %v", e, err)
	}
	t.Setenv("HF_HOME", "/hf")
	t.Setenv("XDG_DATA_HOME", "/data")
	t.Setenv("OLLAMA_MODELS", "/om")
	e, _ = EnvFromOS()
	if e.HubCache != "/hf/hub" || e.OlmHome != "/data/olm" || e.OllamaModels != "/om" {
		t.Fatalf("HF_HOME/XDG %+v", e)
	}
	t.Setenv("HF_HUB_CACHE", "/cache")
	t.Setenv("OLM_HOME", "/olm")
	e, _ = EnvFromOS()
	if e.HubCache != "/cache" || e.OlmHome != "/olm" {
		t.Fatalf("explicit %+v", e)
	}
}
