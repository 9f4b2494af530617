package engine

import (
	"context"
	"testing"

	"github.com/olm-dev/olm/grammar"
	"github.com/olm-dev/olm/runner"
)

// BenchmarkGrammarTG measures generation speed through the engine with and without a
// JSON Schema grammar, back to back in each iteration, and reports both and their ratio
// (the target: at least 0.9).
//
//	go test ./engine -run '^$' -bench GrammarTG -benchtime 3x
//
// The schema is an array of strings without bounds, so the random model never finishes
// it and every step pays the grammar's full cost: the grammar checks every token of the
// vocabulary (32,000 here) against the JSON it has read so far.
func BenchmarkGrammarTG(b *testing.B) {
	m, err := runner.LoadModel(context.Background(), benchModel(b), runner.ModelOptions{GPULayers: 0})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	g, err := grammar.FromJSONSchema([]byte(`{"type": "object", "properties": {"notes": {"type": "array", "items": {"type": "string"}}}, "required": ["notes"]}`))
	if err != nil {
		b.Fatal(err)
	}
	e, err := New(m, Options{SlotCtx: 256, Context: runner.ContextOptions{Threads: runner.PhysicalCores()}})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	prompt := []runner.Token{m.BOS()}
	const n = 64
	run := func(grammarText string) float64 {
		p := runner.DefaultSampling()
		p.Seed, p.Grammar = 1, grammarText
		res, err := e.Generate(context.Background(), Request{Prompt: prompt, Sampling: p, MaxTokens: n, IgnoreEOG: true}, func([]byte) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
		if res.GenTokens != n {
			b.Fatalf("%d tokens, want %d (%s)", res.GenTokens, n, res.Reason)
		}
		return float64(n-1) / res.GenTime.Seconds()
	}
	run("") // warm-up
	var plain, constrained float64
	for range b.N {
		plain += run("")
		constrained += run(g.Text)
	}
	b.ReportMetric(plain/float64(b.N), "tg-t/s")
	b.ReportMetric(constrained/float64(b.N), "grammar-tg-t/s")
	b.ReportMetric(constrained/plain, "ratio")
	// Where the time goes: the sampler chain alone, on random logits over the vocabulary.
	p := runner.DefaultSampling()
	p.Seed = 1
	free, err := runner.SampleCost(m, p, 200, false)
	if err != nil {
		b.Fatal(err)
	}
	p.Grammar = g.Text
	lazy, err := runner.SampleCost(m, p, 200, false)
	if err != nil {
		b.Fatal(err)
	}
	first, err := runner.SampleCost(m, p, 200, true)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(free.Microseconds()), "sample-us/tok")
	b.ReportMetric(float64(lazy.Microseconds()), "grammar-sample-us/tok")
	b.ReportMetric(float64(first.Microseconds()), "grammar-first-sample-us/tok")
}
