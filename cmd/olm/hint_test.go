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
