package models

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func testResolver(t *testing.T) (Resolver, string) {
	t.Helper()
	cat, err := LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	env := Env{HubCache: filepath.Join(dir, "hub"), OlmHome: filepath.Join(dir, "olm"), OllamaModels: filepath.Join(dir, "ollama")}
	hub := &fakeHub{commit: strings.Repeat("a", 40), files: map[string][]byte{
		"model.Q8_0.gguf":                    []byte("x"),
		"model.Q4_K_M.gguf":                  []byte("x"),
		"model.Q2_K.gguf":                    []byte("x"),
		"mmproj-model-f16.gguf":              []byte("x"),
		"README.md":                          []byte("x"),
		"big/model-Q6_K-00001-of-00003.gguf": []byte("x"),
		"big/model-Q6_K-00002-of-00003.gguf": []byte("x"),
		"big/model-Q6_K-00003-of-00003.gguf": []byte("x"),
		"half-IQ4_XS-00001-of-00002.gguf":    []byte("x"),
	}}
	gguf := filepath.Join(dir, "local.gguf")
	writeGGUF(t, gguf, tinyGGUF{})
	return Resolver{Catalog: cat, Env: env, Lister: hub}, gguf
}

func TestResolve(t *testing.T) {
	r, gguf := testResolver(t)
	notGGUF := filepath.Join(filepath.Dir(gguf), "notes.gguf")
	os.WriteFile(notGGUF, []byte("hello"), 0o644)
	if _, err := Import(r.Env, gguf, "mine"); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		in      string
		source  Source
		ref     string   // want Ref.Name
		files   []string // want Ref.Files
		quant   string
		wantErr string // substring; "" means success
	}{
		{name: "alias default quant", in: "mistral", source: SourceCatalog, ref: "mistral-7b-instruct-v0.2:q4_k_m",
			files: []string{"mistral-7b-instruct-v0.2.Q4_K_M.gguf"}, quant: "q4_k_m"},
		{name: "id with quant", in: "mistral-7b-instruct-v0.2:q5_k_m", source: SourceCatalog,
			ref: "mistral-7b-instruct-v0.2:q5_k_m", files: []string{"mistral-7b-instruct-v0.2.Q5_K_M.gguf"}, quant: "q5_k_m"},
		{name: "alias upper-case quant", in: "llama2:Q8_0", source: SourceCatalog, ref: "llama2-7b-chat:q8_0", quant: "q8_0"},
		{name: "default without q4_k_m", in: "gpt4all", source: SourceCatalog, ref: "gpt4all-falcon:q4_0"},
		{name: "unknown quant lists options", in: "mistral:q3_k_s", wantErr: "available q4_0, q4_k_m, q5_k_m, q8_0"},
		{name: "typo suggests", in: "mistrl", wantErr: "did you mean mistral"},
		{name: "typo suggests mixtral", in: "mixtrl:q4_0", wantErr: "did you mean mixtral"},
		{name: "prefix suggests", in: "tinyllam", wantErr: "tinyllama"},
		{name: "nothing close", in: "zzzzzzzzzz", wantErr: "see olm catalog"},
		{name: "hf default Q4_K_M", in: "hf.co/o/r", source: SourceHF, ref: "hf.co/o/r:model.Q4_K_M.gguf",
			files: []string{"model.Q4_K_M.gguf"}, quant: "Q4_K_M"},
		{name: "hf quant any case", in: "hf.co/o/r:q2_k", source: SourceHF, files: []string{"model.Q2_K.gguf"}},
		{name: "huggingface.co form", in: "huggingface.co/o/r:Q8_0", source: SourceHF, files: []string{"model.Q8_0.gguf"}},
		{name: "https url to file", in: "https://huggingface.co/o/r/resolve/main/model.Q8_0.gguf", source: SourceHF,
			files: []string{"model.Q8_0.gguf"}},
		{name: "owner/repo form", in: "o/r:Q8_0", source: SourceHF, files: []string{"model.Q8_0.gguf"}},
		{name: "hf named file", in: "hf.co/o/r:model.Q2_K.gguf", source: SourceHF, files: []string{"model.Q2_K.gguf"}},
		{name: "hf split pulled together", in: "hf.co/o/r:Q6_K", source: SourceHF, files: []string{
			"big/model-Q6_K-00001-of-00003.gguf", "big/model-Q6_K-00002-of-00003.gguf", "big/model-Q6_K-00003-of-00003.gguf"}},
		{name: "hf split missing part", in: "hf.co/o/r:IQ4_XS", wantErr: "lacks part 2 of 2"},
		{name: "hf unknown quant lists", in: "hf.co/o/r:Q5_K_M", wantErr: "available"},
		{name: "hf bad form", in: "hf.co/justowner", wantErr: "OWNER/REPO"},
		{name: "hf catalog repo gets model", in: "hf.co/TheBloke/Llama-2-7B-Chat-GGUF:llama-2-7b-chat.Q4_0.gguf",
			source: SourceHF, quant: "q4_0"},
		{name: "path", in: gguf, source: SourceFile, ref: gguf},
		{name: "missing path", in: "./nope.gguf", wantErr: "no such file"},
		{name: "path not gguf", in: notGGUF, wantErr: "not a GGUF"},
		{name: "import name", in: "mine", source: SourceImport, ref: "mine"},
		{name: "empty", in: " ", wantErr: "empty model name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref, err := r.Resolve(context.Background(), tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error spans lines: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ref.Source != tt.source {
				t.Errorf("source %s, want %s", ref.Source, tt.source)
			}
			if tt.ref != "" && ref.Name != tt.ref {
				t.Errorf("name %q, want %q", ref.Name, tt.ref)
			}
			if tt.files != nil && strings.Join(ref.Files, ",") != strings.Join(tt.files, ",") {
				t.Errorf("files %v, want %v", ref.Files, tt.files)
			}
			if tt.quant != "" && ref.Quant != tt.quant {
				t.Errorf("quant %q, want %q", ref.Quant, tt.quant)
			}
		})
	}
}

func TestResolveCatalogRefCarriesExpectation(t *testing.T) {
	r, _ := testResolver(t)
	ref, err := r.Resolve(context.Background(), "tinyllama")
	if err != nil {
		t.Fatal(err)
	}
	if ref.Expect == nil || ref.Expect.Size != 668788096 || ref.Model.Template != "zephyr" || ref.Revision != "main" {
		t.Errorf("ref %+v", ref)
	}
}

func TestResolveHFOfflineUsesCache(t *testing.T) {
	r, _ := testResolver(t)
	r.Lister = nil
	if _, err := r.Resolve(context.Background(), "hf.co/o/r"); err == nil || !strings.Contains(err.Error(), "offline") {
		t.Fatalf("want offline error, got %v", err)
	}
	// a named file needs no listing
	if ref, err := r.Resolve(context.Background(), "hf.co/o/r:x-Q4_K_M.gguf"); err != nil || ref.Files[0] != "x-Q4_K_M.gguf" {
		t.Fatalf("named file offline: %+v %v", ref, err)
	}
	st := r.Env.Store()
	commit := strings.Repeat("c", 40)
	os.MkdirAll(st.BlobPath("o/r", ""), 0o755)
	os.WriteFile(st.BlobPath("o/r", "b1"), []byte("x"), 0o644)
	if _, err := st.Link("o/r", commit, "m.Q8_0.gguf", "b1"); err != nil {
		t.Fatal(err)
	}
	st.WriteRef("o/r", "main", commit)
	ref, err := r.Resolve(context.Background(), "hf.co/o/r")
	if err != nil || ref.Files[0] != "m.Q8_0.gguf" {
		t.Fatalf("offline from cache: %+v %v", ref, err)
	}
}

func TestQuantOf(t *testing.T) {
	for in, want := range map[string]string{
		"llama-2-7b-chat.Q4_K_M.gguf":                    "Q4_K_M",
		"qwen2.5-0.5b-instruct-q4_k_m.gguf":              "q4_k_m",
		"ELYZA-japanese-Llama-2-7b-instruct-q4_K_M.gguf": "q4_K_M",
		"ggml-tiiuae-falcon-7b-instruct-Q4_0.gguf":       "Q4_0",
		"x/Model-IQ4_XS-00001-of-00002.gguf":             "IQ4_XS",
		"model-f16.gguf":                                 "f16",
		"model.gguf":                                     "",
	} {
		if got := quantOf(in); got != want {
			t.Errorf("quantOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLevenshtein(t *testing.T) {
	for _, c := range []struct {
		a, b string
		d    int
	}{{"", "abc", 3}, {"kitten", "sitting", 3}, {"mistral", "mistral", 0}, {"mistrl", "mistral", 1}, {"日本", "日本語", 1}} {
		if got := levenshtein(c.a, c.b); got != c.d {
			t.Errorf("levenshtein(%q,%q) = %d, want %d", c.a, c.b, got, c.d)
		}
	}
}
