package main

import (
	"net/url"
	"runtime"
	"testing"
	"time"
)

type urlT = url.URL

func parseURL(s string) (*url.URL, error) { return url.Parse(s) }

func runtimeGosched() { runtime.Gosched() }

func numGoroutine() int { return runtime.NumGoroutine() }

// waitFor polls cond until it holds, failing after 20 s; for state other goroutines reach
// (connections closing), not a sleep.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 20 s")
		}
		runtime.Gosched()
	}
}
