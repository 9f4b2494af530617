package template

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// realTemplates lists the shipped chat templates in testdata/jinja and the
// special tokens their tokenizers pass (as in testdata/templates.py).
var realTemplates = map[string]Tokens{
	"llama2-chat":           {BOS: "<s>", EOS: "</s>"},
	"mistral-v0.1-2023":     {BOS: "<s>", EOS: "</s>"},
	"mistral-v0.2-2023":     {BOS: "<s>", EOS: "</s>"},
	"mixtral-instruct-2023": {BOS: "<s>", EOS: "</s>"},
	"mistral-v1-2024":       {BOS: "<s>", EOS: "</s>"},
	"zephyr":                {BOS: "<s>", EOS: "</s>"},
	"chatml":                {BOS: "<s>", EOS: "<|im_end|>"},
	"qwen2.5":               {BOS: "", EOS: "<|im_end|>"},
	"mistral-v0.3":          {BOS: "<s>", EOS: "</s>"},
	"smollm2":               {BOS: "<|im_start|>", EOS: "<|im_end|>"},
	"olmo2-instruct":        {BOS: "<|endoftext|>", EOS: "<|endoftext|>"},
}

func loadReal(t *testing.T, name string) *Jinja {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", "jinja", name+".jinja"))
	if err != nil {
		t.Fatal(err)
	}
	j, err := NewJinja(name, string(src), realTemplates[name])
	if err != nil {
		t.Fatalf("compile %s: %v", name, err)
	}
	return j
}

func readGolden(t *testing.T, name, conv string) (want string, wantErr bool) {
	t.Helper()
	base := filepath.Join("testdata", "golden", name+"."+conv)
	if b, err := os.ReadFile(base + ".txt"); err == nil {
		return string(b), false
	}
	b, err := os.ReadFile(base + ".err")
	if err != nil {
		t.Fatalf("no golden for %s.%s: %v", name, conv, err)
	}
	return string(b), true
}

// TestJinjaGolden renders every real template on every conversation and
// compares with what HF's renderer produced (testdata/golden.py).
func TestJinjaGolden(t *testing.T) {
	for name := range realTemplates {
		j := loadReal(t, name)
		for conv, msgs := range conversations {
			t.Run(name+"/"+conv, func(t *testing.T) {
				want, wantErr := readGolden(t, name, conv)
				p, err := j.Render(msgs, true)
				if wantErr {
					var raised *RaisedError
					if !errors.As(err, &raised) {
						t.Fatalf("want raise_exception %q, got prompt %q err %v", want, p.String(), err)
					}
					if raised.Message != want {
						t.Fatalf("raised %q, want %q", raised.Message, want)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if got := p.String(); got != want {
					t.Fatalf("render mismatch\n got: %q\nwant: %q", got, want)
				}
				if p.Unprotected {
					t.Errorf("contents not isolated as literal parts")
				}
				// Every non-empty content must come back as (part of) a literal part.
				for _, m := range msgs {
					if !hasLiteral(p, strings.TrimSpace(m.Content)) {
						t.Errorf("content %q not in a literal part: %#v", m.Content, p.Parts)
					}
				}
			})
		}
	}
}

func hasLiteral(p Prompt, s string) bool {
	for _, part := range p.Parts {
		if part.Literal && strings.Contains(part.Text, s) {
			return true
		}
	}
	return false
}
