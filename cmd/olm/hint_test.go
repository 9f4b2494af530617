package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/olm-dev/olm/engine"
)

func TestEngineErrorsGetFlagHints(t *testing.T) {
	err := fmt.Errorf("answer: %w", &engine.ContextError{Tokens: 900, Ctx: 512})
	got := flagHint(err)
	if !strings.Contains(got, "900 tokens") || !strings.Contains(got, "raise --ctx (now 512)") {
		t.Fatalf("hint %q", got)
	}
	if got := flagHint(fmt.Errorf("plain")); got != "plain" {
		t.Fatalf("plain error became %q", got)
	}
}

// --ctx is what the engine holds, not llama.cpp's padded 256: a prompt longer than it is
// refused with the flag to change, never run in a silently larger context.
func TestTinyCtxIsHonouredNotPadded(t *testing.T) {
	mustFail(t, []string{"run", tinyModel, "hello there my friend", "--ctx", "1"}, "context holds 1", "raise --ctx (now 1)")
	out, errOut := mustRun(t, "", "run", tinyModel, "hi", "--ctx", "6", "-n", "50", "--temp", "0")
	if !strings.Contains(errOut, "context is full (6 tokens)") || out == "" {
		t.Fatalf("--ctx 6: stdout %q, stderr %q", out, errOut)
	}
}
