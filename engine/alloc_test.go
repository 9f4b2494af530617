package engine

import (
	"testing"

	"github.com/olm-dev/olm/runner"
)

// TestStepAllocatesNothingPerToken drives the scheduler by hand (no goroutine) with four
// generating sequences and counts allocations per step.
func TestStepAllocatesNothingPerToken(t *testing.T) {
	testStepAllocs(t, greedySampling())
}

// With a grammar (and the UTF-8 guard) in every chain the step still allocates nothing:
// both run inside the one cgo call that samples the batch.
func TestStepAllocatesNothingWithGrammar(t *testing.T) {
	p := greedySampling()
	p.Grammar = `root ::= ("a" | "b" | " " | [a-z])*`
	testStepAllocs(t, p)
}

func testStepAllocs(t *testing.T, sp runner.SamplingParams) {
	m := storiesModel(t)
	e, err := newEngine(m, Options{Slots: 4, SlotCtx: 512, Context: runner.ContextOptions{Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	var seqs []*seq
	for _, p := range []string{"Once upon a time", "The dog", "A girl named", "Tom"} {
		smpl, err := runner.NewSamplerFor(m, sp)
		if err != nil {
			t.Fatal(err)
		}
		defer smpl.Close()
		q := newSeq(Request{Prompt: tokenize(t, m, p), Sampling: sp, IgnoreEOG: true}, smpl, e.opts.SlotCtx)
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
