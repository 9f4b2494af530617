package engine

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/olm-dev/olm/runner"
)

func TestAloneMatchesRunnerGenerate(t *testing.T) {
	m := storiesModel(t)
	prompt := tokenize(t, m, "Once upon a time")
	lctx, err := m.NewContext(runner.ContextOptions{Ctx: 256, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer lctx.Close()
	smpl, _ := runner.NewSampler(greedySampling())
	defer smpl.Close()
	var want strings.Builder
	if _, err := lctx.Generate(context.Background(), prompt, runner.GenerateOptions{MaxTokens: 40, Sampler: smpl},
		func(b []byte) error { want.Write(b); return nil }); err != nil {
		t.Fatal(err)
	}
	e := newTestEngine(t, m, Options{Slots: 4, SlotCtx: 256})
	got, res := gen(t, e, context.Background(), Request{Prompt: prompt, Sampling: greedySampling(), MaxTokens: 40})
	if got != want.String() {
		t.Fatalf("engine: %q\nrunner: %q", got, want.String())
	}
	if res.GenTokens != 40 || res.Reason != runner.StopMaxTokens || len(res.Generated) != 40 {
		t.Fatalf("result %+v", res.Result)
	}
	if !strings.Contains(got, "Lily") {
		t.Errorf("the real model's greedy story lost its heroine: %q", got)
	}
}

func TestFourIdenticalPromptsGiveIdenticalOutputs(t *testing.T) {
	m := storiesModel(t)
	e := newTestEngine(t, m, Options{Slots: 4, SlotCtx: 256})
	prompt := tokenize(t, m, "The little dog")
	var wg sync.WaitGroup
	out := make([]string, 4)
	for i := range out {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i], _ = gen(t, e, context.Background(), Request{Prompt: prompt, Sampling: greedySampling(), MaxTokens: 48})
		}()
	}
	wg.Wait()
	for i := 1; i < 4; i++ {
		if out[i] != out[0] {
			t.Errorf("output %d differs:\n%q\n%q", i, out[i], out[0])
		}
	}
	if len(out[0]) < 40 {
		t.Errorf("short output %q", out[0])
	}
}

func TestQueueBoundRefusesWithTypedError(t *testing.T) {
	m := storiesModel(t)
	e := newTestEngine(t, m, Options{Slots: 1, SlotCtx: 2048, MaxQueue: 1})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	prompt := tokenize(t, m, "Once upon a time")
	started := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // holds the only slot until cancelled
		defer wg.Done()
		var once sync.Once
		e.Generate(ctx, Request{Prompt: prompt, Sampling: greedySampling(), IgnoreEOG: true}, func([]byte) error {
			once.Do(func() { close(started) })
			return nil
		})
	}()
	<-started
	queuedIn := make(chan error, 1)
	wg.Add(1)
	go func() { // waits in the queue
		defer wg.Done()
		_, err := e.Generate(ctx, Request{Prompt: prompt, Sampling: greedySampling(), MaxTokens: 4}, func([]byte) error { return nil })
		queuedIn <- err
	}()
	waitFor(t, func() bool { return e.Stats().Queued == 1 })
	_, err := e.Generate(ctx, Request{Prompt: prompt, Sampling: greedySampling(), MaxTokens: 4}, func([]byte) error { return nil })
	if !errors.Is(err, ErrQueueFull) {
		t.Fatalf("third request: %v, want ErrQueueFull", err)
	}
	cancel()
	wg.Wait()
	if err := <-queuedIn; err != nil {
		t.Fatalf("queued request: %v", err)
	}
}

// TestCancelFreesTheSlotAtOnce: a request cancelled mid-generation gives its cache cells
// back before Generate returns, and the request waiting for its slot takes it.
func TestCancelFreesTheSlotAtOnce(t *testing.T) {
	m := storiesModel(t)
	e := newTestEngine(t, m, Options{Slots: 1, SlotCtx: 2048})
	prompt := tokenize(t, m, "Once upon a time")
	ctx, cancel := context.WithCancel(context.Background())
	tokens := 0
	waiting := make(chan Result, 1)
	res, err := e.Generate(ctx, Request{Prompt: prompt, Sampling: greedySampling(), IgnoreEOG: true}, func([]byte) error {
		if tokens++; tokens == 5 {
			go func() { // queued behind the running request
				r, err := e.Generate(context.Background(), Request{Prompt: tokenize(t, m, "A cat"), Sampling: greedySampling(), MaxTokens: 3},
					func([]byte) error { return nil })
				if err != nil {
					t.Error(err)
				}
				waiting <- r
			}()
		}
		if tokens == 20 {
			waitFor(t, func() bool { return e.Stats().Queued == 1 })
			cancel()
		}
		return nil
	})
	if err != nil || res.Reason != runner.StopCancelled {
		t.Fatalf("cancelled request: %v, %s", err, res.Reason)
	}
	// The freed slot went to the waiting request; its cache holds only what it evaluated.
	r := <-waiting
	if r.Reason != runner.StopMaxTokens || r.PromptEvaluated != r.PromptTokens {
		t.Fatalf("waiting request: %+v", r.Result)
	}
	if st := e.Stats(); st.Busy != 0 || st.CachedTokens > r.PromptTokens+3 {
		t.Fatalf("after both: %+v (the cancelled request's %d+ tokens should be gone)", st, len(prompt)+20)
	}
	if got := e.lctx.SeqPosMax(0); got >= r.PromptTokens+3 {
		t.Fatalf("llama.cpp's cache still holds positions up to %d", got)
	}
}

// TestCancelledCellsFallBack: with two slots, cancelling one leaves llama.cpp's cache
// for that sequence empty while the other keeps its own.
func TestCancelledCellsFallBack(t *testing.T) {
	m := storiesModel(t)
	e := newTestEngine(t, m, Options{Slots: 2, SlotCtx: 2048})
	_, done := gen(t, e, context.Background(), Request{Prompt: tokenize(t, m, "The sun"), Sampling: greedySampling(), MaxTokens: 8})
	before := e.Stats().CachedTokens
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	res, err := e.Generate(ctx, Request{Prompt: tokenize(t, m, "Once upon a time"), Sampling: greedySampling(), IgnoreEOG: true},
		func([]byte) error {
			if n++; n == 30 {
				if st := e.Stats(); st.CachedTokens <= before+20 {
					t.Errorf("while running: %d cached, want more than %d", st.CachedTokens, before+20)
				}
				cancel()
			}
			return nil
		})
	if err != nil || res.Reason != runner.StopCancelled {
		t.Fatal(err, res.Reason)
	}
	if got := e.Stats().CachedTokens; got != before {
		t.Fatalf("cached tokens after the cancel: %d, want the %d of the finished request", got, before)
	}
	if done.CtxUsed != before {
		t.Fatalf("finished request used %d, stats say %d", done.CtxUsed, before)
	}
}

// TestPrefixReuse: a second request sharing a 200-token system prompt evaluates only its
// own tokens, from the same slot or copied from another.
func TestPrefixReuse(t *testing.T) {
	m := storiesModel(t)
	system := tokenize(t, m, strings.Repeat("Lily had a red ball and a big dog. ", 20))
	if len(system) < 200 {
		t.Fatalf("system prompt is only %d tokens", len(system))
	}
	system = system[:200]
	for _, slots := range []int{1, 3} {
		e := newTestEngine(t, m, Options{Slots: slots, SlotCtx: 512})
		first := append(append([]runner.Token{}, system...), tokenize(t, m, "Tom asked")[1:]...)
		_, r1 := gen(t, e, context.Background(), Request{Prompt: first, Sampling: greedySampling(), MaxTokens: 8})
		if r1.PromptEvaluated != len(first) {
			t.Fatalf("slots %d: first request evaluated %d of %d", slots, r1.PromptEvaluated, len(first))
		}
		own := tokenize(t, m, "Then she said")[1:]
		second := append(append([]runner.Token{}, system...), own...)
		// Hold the slot the first request used, so that with several slots the prefix is copied.
		_, r2 := gen(t, e, context.Background(), Request{Prompt: second, Sampling: greedySampling(), MaxTokens: 8})
		if r2.PromptEvaluated != len(own) {
			t.Fatalf("slots %d: second request evaluated %d tokens, want only its own %d", slots, r2.PromptEvaluated, len(own))
		}
	}
}

// Progress gives, with each emit, how many tokens the text so far took: an emit may
// carry several, so the count is the engine's, not the caller's tally of emits.
func TestProgressCountsTokens(t *testing.T) {
	m := storiesModel(t)
	e := newTestEngine(t, m, Options{Slots: 1, SlotCtx: 512})
	type mark struct {
		tokens int
		text   string
	}
	var marks []mark
	var text strings.Builder
	tokens := -1
	req := Request{Prompt: tokenize(t, m, "Once upon a time"), Sampling: greedySampling(), MaxTokens: 300,
		Progress: func(n int) { tokens = n }}
	res, err := e.Generate(context.Background(), req, func(b []byte) error {
		text.Write(b)
		marks = append(marks, mark{tokens, text.String()})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(marks) == 0 || marks[len(marks)-1].tokens != res.GenTokens || res.GenTokens != 300 {
		t.Fatalf("%d emits, last count %v, generated %d", len(marks), marks[len(marks)-1:], res.GenTokens)
	}
	for i, mk := range marks {
		var want []byte
		for _, tok := range res.Generated[:mk.tokens] {
			want = m.Piece(want, tok, false)
		}
		if mk.text != string(want) || (i > 0 && mk.tokens <= marks[i-1].tokens) {
			t.Fatalf("emit %d: count %d, text %q; the text of %d tokens is %q", i, mk.tokens, mk.text, mk.tokens, want)
		}
	}
	t.Logf("%d tokens in %d emits", res.GenTokens, len(marks))
}
