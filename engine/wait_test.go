package engine

import (
	"runtime"
	"testing"
	"time"
)

// waitFor polls cond, yielding to the scheduler, until it holds or ten seconds pass. It is
// for state another goroutine publishes (Stats), not a sleep: it returns the moment cond holds.
func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 10 s")
		}
		runtime.Gosched()
	}
}
