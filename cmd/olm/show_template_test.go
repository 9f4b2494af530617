package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/olm-dev/olm/synth"
)

// chatMLJinja is the ChatML template as Qwen-style GGUFs embed it.
const chatMLJinja = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"

func TestShowTemplateDoctor(t *testing.T) {
	modelEnv(t, "http://127.0.0.1:1")
	dir := t.TempDir()
	s, err := synth.Tiny("llama")
	if err != nil {
		t.Fatal(err)
	}
	s.ChatTemplate = chatMLJinja
	s.ExtraSpecial = []string{"<|im_start|>", "<|im_end|>"}
	path := filepath.Join(dir, "chat.gguf")
	if err := synth.Write(context.Background(), path, s, nil); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "", "import", path, "--name", "chatty")

	out, _ := mustRun(t, "", "show", "chatty", "--template")
	for _, want := range []string{"gguf", "<|im_start|>user\nHello! Who are you?<|im_end|>", "<|im_start|>assistant\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("template doctor output lacks %q:\n%s", want, out)
		}
	}

	conv := filepath.Join(dir, "conv.json")
	os.WriteFile(conv, []byte(`[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}]`), 0o644)
	out, _ = mustRun(t, "", "show", "chatty", "--template", "--messages", conv)
	want := "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
	if out != want {
		t.Fatalf("--messages printed %q, want exactly %q", out, want)
	}
	out, _ = mustRun(t, "", "show", "chatty", "--template", "--as", "llama2", "--messages", conv)
	if want := "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST]"; out != want {
		t.Fatalf("--as llama2 printed %q, want %q", out, want)
	}
	mustFail(t, []string{"show", "chatty", "--messages", conv}, "--template")
	mustFail(t, []string{"show", "chatty", "--template", "--as", "nosuch"}, "nosuch")
}
