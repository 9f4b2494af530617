package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func TestChatPromptJSON(t *testing.T) {
	out, errOut, code := runOLM(t, "", "chat", tinyModel, "-p", "hi", "--json", "-n", "8", "--temp", "0")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, out)
	}
	for _, k := range []string{"model", "answer", "prompt_tokens", "generated_tokens", "prompt_tps", "gen_tps", "ttft_ms", "stop"} {
		if _, ok := got[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, out)
		}
	}
	if got["model"] != tinyModel || got["generated_tokens"] != 8.0 || got["stop"] != "max_tokens" || got["prompt_tokens"].(float64) < 2 {
		t.Errorf("JSON %s", out)
	}
	if errOut != "" {
		t.Errorf("stderr %q", errOut)
	}
}

func TestChatPromptPlain(t *testing.T) {
	out, errOut, code := runOLM(t, "", "chat", tinyModel, "-p", "hi", "-n", "8", "--temp", "0", "--system", "be brief", "--template", "chatml")
	if code != 0 || out == "" || !strings.HasSuffix(out, "\n") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// TestChatScriptedStdin is `printf 'Hello\n/stats\n/exit\n' | olm chat MODEL`.
func TestChatScriptedStdin(t *testing.T) {
	out, errOut, code := runOLM(t, "Hello\n/stats\n/exit\n", "chat", tinyModel, "-n", "8", "--temp", "0")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"prompt:", "answer:     8 tokens", "first token:", "context:", "tokens used"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Errorf("colour on a pipe: %q", out)
	}
	// A message the context cannot hold: the session goes on, and the line says what to do
	// in a REPL (the context is fixed for the session).
	_, errOut, _ = runOLM(t, strings.Repeat("word ", 400)+"\n/exit\n", "chat", tinyModel, "-n", "4", "--ctx", "256")
	if !strings.Contains(errOut, "but the context holds 256; shorten the message, or start olm chat again with a larger --ctx (now 256)") {
		t.Errorf("a message longer than the context: %q", errOut)
	}
	// End of input without /exit ends cleanly too.
	if _, errOut, code := runOLM(t, "Hello\n", "chat", tinyModel, "-n", "4"); code != 0 {
		t.Fatalf("EOF: exit %d: %s", code, errOut)
	}
}

func TestChatBadInput(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"chat", tinyModel, "--json"}, "--json needs -p"},
		{[]string{"chat", tinyModel, "-p", " "}, "empty prompt"},
		{[]string{"chat", tinyModel, "-p", "hi", "--template", "/nonexistent.jinja"}, "--template"},
		{[]string{"chat", "/nonexistent.gguf", "-p", "hi"}, "no such file"},
		{[]string{"chat", tinyModel, "--temp", "-1"}, "--temp -1"},
		{[]string{"chat"}, "chat needs MODEL"},
	}
	for _, c := range cases {
		out, errOut, code := runOLM(t, "", c.args...)
		if code != 1 || out != "" || !strings.Contains(errOut, c.want) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q (want one line with %q)", c.args, code, out, errOut, c.want)
		}
	}
}

func TestChatFlags(t *testing.T) {
	var got *chatOptions
	cmd := newChatCmd(&ioStreams{}, &globalOptions{}, func(_ context.Context, o *chatOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"m.gguf", "--system", "sys", "--template", "chatml", "-p", "q", "--json", "--temp", "0.2", "--seed", "7", "-n", "5"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.model != "m.gguf" || got.system != "sys" || got.template != "chatml" || got.prompt != "q" || !got.json ||
		got.gen.sampling.Temp != 0.2 || got.gen.sampling.Seed != 7 || got.gen.maxTokens != 5 {
		t.Fatalf("options %+v", got)
	}
}
