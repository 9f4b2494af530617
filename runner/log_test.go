package runner

import "testing"

// Two calls in flight each hear the error logged during their own span; one ending does
// not take the other's.
func TestErrorCapturesArePerCall(t *testing.T) {
	a := captureErrors()
	logText(logLevelError, "first failure\n")
	b := captureErrors()
	logText(logLevelError, "second failure\n")
	if got := b.done(); got != "second failure" {
		t.Fatalf("b heard %q", got)
	}
	if got := a.done(); got != "first failure" {
		t.Fatalf("a heard %q, want its own first error", got)
	}
	if len(logState.captures) != 0 {
		t.Fatalf("%d captures left registered", len(logState.captures))
	}
}
