package runner_test

import (
	"context"
	"testing"

	"github.com/olm-dev/olm/internal/realmodel"
	"github.com/olm-dev/olm/runner"
)

func loadStories(t testing.TB) *runner.Model {
	t.Helper()
	m, err := runner.LoadModel(context.Background(), realmodel.Stories260K(t), runner.ModelOptions{GPULayers: 0})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

// argmaxMargin is the best token and how far its logit is above the second best.
func argmaxMargin(l []float32) (runner.Token, float64) {
	best, second := -1, -1
	for i, v := range l {
		switch {
		case best < 0 || v > l[best]:
			second, best = best, i
		case second < 0 || v > l[second]:
			second = i
		}
	}
	return runner.Token(best), float64(l[best] - l[second])
}

// TestBatchedDecodeMatchesAlone decodes one prompt alone and then inside a batch of four
// different prompts, feeding the batched run the alone run's tokens (teacher forcing), and
// compares the greedy choice at every step on the real model.
func TestBatchedDecodeMatchesAlone(t *testing.T) {
	m := loadStories(t)
	prompts := []string{"Once upon a time", "The big red ball", "Tom and his mom went", "One day, a bird"}
	toks := make([][]runner.Token, len(prompts))
	for i, p := range prompts {
		var err error
		if toks[i], err = m.Tokenize(p, true, false); err != nil {
			t.Fatal(err)
		}
	}
	const steps = 48

	// Alone: one sequence, greedy, recording each step's choice.
	alone, err := m.NewContext(runner.ContextOptions{Ctx: 256, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer alone.Close()
	b := runner.NewBatch(256)
	defer b.Close()
	for j, tk := range toks[0] {
		b.Add(tk, j, 0, j == len(toks[0])-1)
	}
	if err := alone.Decode(b); err != nil {
		t.Fatal(err)
	}
	want := make([]runner.Token, steps)
	margin := make([]float64, steps)
	last := b.Len() - 1
	for k := range steps {
		want[k], margin[k] = argmaxMargin(alone.Logits(last))
		b.Clear()
		last = b.Add(want[k], len(toks[0])+k, 0, true)
		if err := alone.Decode(b); err != nil {
			t.Fatal(err)
		}
	}

	// Batched: four sequences in one unified cache, all prompts in the first batch.
	batched, err := m.NewContext(runner.ContextOptions{Ctx: 1024, Threads: 1, Seqs: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer batched.Close()
	b.Clear()
	lastIdx := make([]int, 4)
	for s, tt := range toks {
		for j, tk := range tt {
			lastIdx[s] = b.Add(tk, j, s, j == len(tt)-1)
		}
	}
	if err := batched.Decode(b); err != nil {
		t.Fatal(err)
	}
	next := make([]runner.Token, 4)
	close := 0
	for k := range steps {
		for s := range 4 {
			next[s], _ = argmaxMargin(batched.Logits(lastIdx[s]))
		}
		if next[0] != want[k] {
			if margin[k] >= 1e-3 {
				t.Fatalf("step %d: batched chose %d, alone %d (alone's top-2 margin %.4g)", k, next[0], want[k], margin[k])
			}
			close++
			t.Logf("step %d: a different argmax, accepted: the top-2 margin alone is %.2g < 1e-3", k, margin[k])
		}
		next[0] = want[k] // teacher forcing: the batched run continues the alone run's text
		b.Clear()
		for s := range 4 {
			lastIdx[s] = b.Add(next[s], len(toks[s])+k, s, true)
		}
		if err := batched.Decode(b); err != nil {
			t.Fatal(err)
		}
	}
	for s := range 4 {
		if got := batched.SeqPosMax(s); got != len(toks[s])+steps-1 {
			t.Errorf("sequence %d holds positions up to %d, want %d", s, got, len(toks[s])+steps-1)
		}
	}
	if text := m.Detokenize(want, false); len(text) < 100 {
		t.Errorf("alone run too short to prove anything: %q", text)
	}
	t.Logf("%d of %d steps differed within the rounding margin", close, steps)
}

// TestSeqOperations checks the per-sequence KV operations the engine relies on.
func TestSeqOperations(t *testing.T) {
	m := loadStories(t)
	c, err := m.NewContext(runner.ContextOptions{Ctx: 512, Threads: 1, Seqs: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	toks, _ := m.Tokenize("Once upon a time there was a girl", true, false)
	b := runner.NewBatch(64)
	defer b.Close()
	for j, tk := range toks {
		b.Add(tk, j, 0, j == len(toks)-1)
	}
	if err := c.Decode(b); err != nil {
		t.Fatal(err)
	}
	if c.SeqPosMax(0) != len(toks)-1 || c.SeqPosMax(1) != -1 {
		t.Fatalf("after decode: seq 0 up to %d, seq 1 up to %d", c.SeqPosMax(0), c.SeqPosMax(1))
	}
	c.SeqCopy(0, 1, 0, 4)
	if c.SeqPosMax(1) != 3 {
		t.Fatalf("copied prefix: seq 1 up to %d, want 3", c.SeqPosMax(1))
	}
	if !c.SeqRemove(0, 2, 5) || !c.CanShift() {
		t.Fatal("removing a middle range failed, or the model cannot shift")
	}
	c.SeqShift(0, 5, -1, -3)
	if got := c.SeqPosMax(0); got != len(toks)-4 {
		t.Fatalf("after removing 3 and shifting: seq 0 up to %d, want %d", got, len(toks)-4)
	}
	c.SeqRemove(1, 0, -1)
	if c.SeqPosMax(1) != -1 {
		t.Fatal("sequence 1 still holds cells")
	}
}
