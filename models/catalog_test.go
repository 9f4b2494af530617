package models

import (
	"strings"
	"testing"
)

func TestCatalogParsesAndIsComplete(t *testing.T) {
	cat, err := LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"llama2-7b-chat", "llama2-13b-chat", "llama2-70b-chat", "mistral-7b-instruct-v0.1",
		"mistral-7b-instruct-v0.2", "mistral-7b", "mixtral-8x7b-instruct", "falcon-7b-instruct",
		"falcon-40b-instruct", "olmo-7b", "olmo2-7b-instruct", "elyza-7b-instruct", "llama-pro-8b-instruct",
		"biomistral-7b", "openmath-mistral-7b", "oasst-falcon-40b", "gpt4all-falcon", "tinyllama-1.1b-chat",
		"qwen2.5-0.5b-instruct", "smollm2-360m-instruct"}
	if len(cat.Models) != len(want) {
		t.Errorf("catalog has %d models, want %d", len(cat.Models), len(want))
	}
	for _, id := range want {
		m, ok := cat.Lookup(id)
		if !ok {
			t.Errorf("missing %s", id)
			continue
		}
		if len(m.Aliases) == 0 {
			t.Errorf("%s has no alias", id)
		}
		if m.Rev() != "main" {
			t.Errorf("%s revision %q", id, m.Rev())
		}
	}
	for _, alias := range []string{"mistral", "llama2", "falcon", "biomistral", "mixtral", "olmo", "elyza",
		"tinyllama", "qwen", "smollm2", "gpt4all", "oasst", "openmath", "llama-pro", "olmo2"} {
		if _, ok := cat.Lookup(alias); !ok {
			t.Errorf("alias %s missing", alias)
		}
	}
}

func TestCatalogFacts(t *testing.T) {
	cat, err := LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	get := func(id, q string) (*Model, File) {
		m, ok := cat.Lookup(id)
		if !ok {
			t.Fatalf("no %s", id)
		}
		return m, m.Files[q]
	}
	m, f := get("llama2-7b-chat", "q4_k_m")
	if f.Name != "llama-2-7b-chat.Q4_K_M.gguf" || f.Size != 4081004224 ||
		f.SHA256 != "08a5566d61d7cb6b420c3e4387a39e0078e1f2fe5f055f3a03887385304d4bfa" ||
		m.Repo != "TheBloke/Llama-2-7B-Chat-GGUF" || m.Context != 4096 || m.Template != "llama2" || m.License != "Llama 2" {
		t.Errorf("llama2-7b-chat: %+v %+v", m, f)
	}
	if s, ok := m.Spec(); !ok || s.NEmbd != 4096 || s.NLayer != 32 || s.NHeadKV != 32 || s.NFF != 11008 || s.NVocab != 32000 {
		t.Errorf("llama2-7b shape %+v", s)
	}
	m, f = get("qwen", "q4_k_m")
	if m.ID != "qwen2.5-0.5b-instruct" || f.Size != 491400032 || f.SHA256 != "74a4da8c9fdbcd15bd1f6d01d621410d31c6fc00986f5eb687824e7b93d7a9db" ||
		m.Arch != "qwen2" || m.Template != "chatml" || m.Context != 32768 {
		t.Errorf("qwen: %+v %+v", m, f)
	}
	m, _ = get("mixtral", "q4_k_m")
	if s, ok := m.Spec(); !ok || s.NExpert != 8 || s.NExpertUsed != 2 || s.NHeadKV != 8 {
		t.Errorf("mixtral shape %+v", s)
	}
	// unknown stays empty, never invented
	_, f = get("falcon-7b-instruct", "q4_0")
	if f.Name != "ggml-tiiuae-falcon-7b-instruct-Q4_0.gguf" || f.Size != 0 || f.SHA256 != "" {
		t.Errorf("falcon q4_0: %+v", f)
	}
	_, f = get("falcon-40b", "q4_k_m")
	if f.SHA256 != "" || f.Size != 0 || f.ApproxSize == 0 {
		t.Errorf("falcon-40b: %+v", f)
	}
	_, f = get("llama2-70b-chat", "q4_k_m")
	if f.Size != 0 || f.SHA256 != "c7e817ae9c84191ccfc57141e839cb1b1cb61822cd299e76d02ec49fd6fa3c3e" {
		t.Errorf("llama2-70b q4_k_m: %+v", f)
	}
	m, _ = get("gpt4all", "q4_0")
	if m.DefaultQuant != "q4_0" || m.Template != "gpt4all" {
		t.Errorf("gpt4all: %+v", m)
	}
	m, _ = get("falcon", "q4_k_m")
	if s, ok := m.Spec(); !ok || s.NHead != 71 || s.NHeadKV != 1 || s.NVocab != 65024 {
		t.Errorf("falcon shape %+v", s)
	}
	for _, m := range cat.Models {
		if _, ok := m.Files["q4_k_m"]; ok && m.DefaultQuant != "q4_k_m" {
			t.Errorf("%s: default %s though q4_k_m exists", m.ID, m.DefaultQuant)
		}
	}
}

func TestCatalogRejectsBadEntries(t *testing.T) {
	entry := `{"id":"%s","aliases":["x"],"description":"d","license":"l","repo":"a/b","arch":"llama",
		"context":1,"template":"none","default_quant":"q4_0","files":{"q4_0":{"file":"a.gguf"}}}`
	cases := map[string]string{
		"duplicate alias": `{"models":[` + strings.Replace(entry, "%s", "one", 1) + `,` + strings.Replace(entry, "%s", "two", 1) + `]}`,
		"bad template":    `{"models":[` + strings.Replace(strings.Replace(entry, "%s", "one", 1), `"none"`, `"nope"`, 1) + `]}`,
		"unknown shape":   `{"models":[` + strings.Replace(strings.Replace(entry, "%s", "one", 1), `"arch"`, `"shape":"zz","arch"`, 1) + `]}`,
		"bad default":     `{"models":[` + strings.Replace(strings.Replace(entry, "%s", "one", 1), `"default_quant":"q4_0"`, `"default_quant":"q8_0"`, 1) + `]}`,
	}
	for name, js := range cases {
		if _, err := parseCatalog([]byte(js)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
