package template

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func realSource(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "jinja", name+".jinja"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSelect(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "my.jinja")
	if err := os.WriteFile(file, []byte(realSource(t, "chatml")), 0o600); err != nil {
		t.Fatal(err)
	}
	broken := "{% for m in messages %}{{ m.content }"
	cases := []struct {
		name         string
		opts         Options
		source       Source
		template     string
		detail, note string // substrings expected in the reason
	}{
		{"override built-in beats everything",
			Options{Override: "zephyr", GGUFTemplate: realSource(t, "qwen2.5"), CatalogTemplate: "CHATML"},
			SourceOverride, "zephyr", "--template zephyr", ""},
		{"override alias", Options{Override: "L2"}, SourceOverride, "llama2", "built-in", ""},
		{"override file", Options{Override: file}, SourceOverride, "jinja:" + file, "Jinja file", ""},
		{"gguf template", Options{GGUFTemplate: realSource(t, "qwen2.5"), CatalogTemplate: "CHATML", Tokens: Tokens{EOS: "<|im_end|>"}},
			SourceGGUF, "jinja:gguf", "tokenizer.chat_template", ""},
		{"gguf template that rejects system prompts is used, with a note",
			Options{GGUFTemplate: realSource(t, "mistral-v0.2-2023"), Tokens: Tokens{BOS: "<s>", EOS: "</s>"}},
			SourceGGUF, "jinja:gguf", "tokenizer.chat_template", "rejects a system prompt"},
		{"catalog first overrides a wrong gguf template",
			Options{GGUFTemplate: realSource(t, "chatml"), CatalogTemplate: "L2", CatalogFirst: true},
			SourceCatalog, "llama2", `catalog names "L2"`, "marks this model's embedded chat template as wrong"},
		{"catalog when gguf has none", Options{CatalogTemplate: "ELYZA", Architecture: "llama"},
			SourceCatalog, "elyza", "catalog", ""},
		{"broken gguf falls to catalog", Options{GGUFTemplate: broken, CatalogTemplate: "tulu"},
			SourceCatalog, "tulu", "catalog", "GGUF's chat template is unusable"},
		{"unknown catalog name falls to heuristic", Options{CatalogTemplate: "vicuna", Architecture: "falcon"},
			SourceHeuristic, "falcon", "architecture falcon", `unknown template "vicuna"`},
		{"heuristic from an unusable chatml text",
			Options{GGUFTemplate: "{{ '<|im_start|>' + messages[0].content }", Architecture: "llama"},
			SourceHeuristic, "chatml", "<|im_start|>", "unusable"},
		{"heuristic from architecture", Options{Architecture: "olmo2"}, SourceHeuristic, "tulu", "olmo2", ""},
		{"fallback to plain completion", Options{Architecture: "llama"}, SourceFallback, "none", "plain text", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tmpl, r, err := Select(c.opts)
			if err != nil {
				t.Fatal(err)
			}
			if r.Source != c.source || r.Template != c.template || tmpl.Name() != c.template {
				t.Fatalf("got %s/%s (template %s), want %s/%s\n%s", r.Source, r.Template, tmpl.Name(), c.source, c.template, r)
			}
			if !strings.Contains(r.Detail, c.detail) {
				t.Errorf("detail %q lacks %q", r.Detail, c.detail)
			}
			if c.note != "" && !strings.Contains(strings.Join(r.Notes, "\n"), c.note) {
				t.Errorf("notes %q lack %q", r.Notes, c.note)
			}
			if c.note == "" && len(r.Notes) > 0 {
				t.Errorf("unexpected notes %q", r.Notes)
			}
			if !strings.Contains(r.String(), c.template) {
				t.Errorf("String() %q does not name the template", r.String())
			}
		})
	}
}

func TestSelectOverrideErrors(t *testing.T) {
	_, _, err := Select(Options{Override: filepath.Join(t.TempDir(), "missing.jinja")})
	if err == nil || !strings.Contains(err.Error(), "chatml") {
		t.Errorf("missing override: want an error listing built-ins, got %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.jinja")
	if err := os.WriteFile(bad, []byte("{% if %}"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Select(Options{Override: bad}); err == nil || !strings.Contains(err.Error(), "--template") {
		t.Errorf("unparsable override: got %v", err)
	}
}

func TestDetectFamily(t *testing.T) {
	for name, want := range map[string]string{
		"llama2-chat":           "llama2",
		"mistral-v0.1-2023":     "mistral-instruct",
		"mistral-v1-2024":       "mistral-instruct",
		"mixtral-instruct-2023": "mistral-instruct",
		"zephyr":                "zephyr",
		"chatml":                "chatml",
		"qwen2.5":               "chatml",
		"smollm2":               "chatml",
		"olmo2-instruct":        "tulu",
	} {
		if got, _ := detectFamily(realSource(t, name), ""); got != want {
			t.Errorf("%s: detected %q, want %q", name, got, want)
		}
	}
	if got, _ := detectFamily("", "gpt2"); got != "" {
		t.Errorf("unknown architecture detected as %q", got)
	}
}
