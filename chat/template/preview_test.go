package template

import (
	"strings"
	"testing"
)

func TestPreviewBuiltin(t *testing.T) {
	tmpl, _ := LookupBuiltin("chatml")
	s, err := Preview(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	want := "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHello! Who are you?<|im_end|>\n" +
		"<|im_start|>assistant\nI am an AI assistant. How can I help?<|im_end|>\n<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n"
	if s.Prompt.String() != want {
		t.Fatalf("prompt %q", s.Prompt.String())
	}
	out := s.String()
	for _, frag := range []string{"template: chatml", `stops: "<|im_end|>"`, "----\n" + want + "\n----"} {
		if !strings.Contains(out, frag) {
			t.Errorf("preview lacks %q:\n%s", frag, out)
		}
	}
}

func TestPreviewJinjaRejectingSystem(t *testing.T) {
	s, err := Preview(loadReal(t, "mixtral-instruct-2023"))
	if err != nil {
		t.Fatal(err)
	}
	want := "<s>[INST] Hello! Who are you? [/INST]I am an AI assistant. How can I help?</s>[INST] What is the capital of France? [/INST]"
	if s.Prompt.String() != want {
		t.Fatalf("prompt %q", s.Prompt.String())
	}
	if !strings.Contains(s.Note, "rejects a system prompt") || !strings.Contains(s.String(), "note: ") {
		t.Errorf("note missing: %q", s.String())
	}
	if !strings.Contains(s.String(), "BOS: written by the template") {
		t.Errorf("BOS line missing: %q", s.String())
	}
}

func TestPreviewEveryBuiltin(t *testing.T) {
	for _, name := range BuiltinNames() {
		tmpl, _ := LookupBuiltin(name)
		s, err := Preview(tmpl)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !strings.Contains(s.Prompt.String(), "What is the capital of France?") {
			t.Errorf("%s: preview lacks the last user turn: %q", name, s.Prompt.String())
		}
	}
}
