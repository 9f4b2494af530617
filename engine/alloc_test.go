package engine

import (
	"testing"

	"github.com/olm-dev/olm/runner"
)

// TestStepAllocatesNothingPerToken drives the scheduler by hand (no goroutine) with four
// generating sequences and counts allocations per step.
func TestStepAllocatesNothingPerToken(t *testing.T) {
	m := storiesModel(t)
	e, err := newEngine(m, Options{Slots: 4, SlotCtx: 512, Context: runner.ContextOptions{Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	var seqs []*seq
	for _, p := range []string{"Once upon a time", "The dog", "A girl named", "Tom"} {
		smpl, err := runner.NewSampler(greedySampling())
		if err != nil {
			t.Fatal(err)
		}
		defer smpl.Close()
		q := newSeq(Request{Prompt: tokenize(t, m, p), Sampling: greedySampling(), IgnoreEOG: true}, smpl, e.opts.SlotCtx)
		if err := e.enqueue(q); err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, q)
	}
	// The caller's side, done here: take the text so the buffers do not grow.
	consume := func() {
		for _, q := range seqs {
			q.mu.Lock()
			q.out = q.out[:0]
			q.mu.Unlock()
		}
	}
	for range 3 { // prefill and the first tokens
		e.s.step()
		consume()
	}
	for _, q := range seqs {
		if q.prefill != 0 || q.slot == nil {
			t.Fatalf("sequence not generating after warm-up: prefill %d", q.prefill)
		}
	}
	allocs := testing.AllocsPerRun(100, func() {
		e.s.step()
		consume()
	})
	if allocs != 0 {
		t.Fatalf("%.1f allocations per step of 4 sequences, want 0", allocs)
	}
	for _, q := range seqs {
		if q.res.GenTokens < 100 {
			t.Fatalf("a sequence made only %d tokens", q.res.GenTokens)
		}
	}
}
