package runner_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/olm-dev/olm/runner"
	"github.com/olm-dev/olm/synth"
)

func benchThreads() int {
	return runner.PhysicalCores()
}

// BenchmarkGenerate measures the generation loop: 128 tokens after a one-token prompt, as
// llama-bench's tg128. It reports olm's wall-clock rate beside llama.cpp's own llama_decode
// rate for the same tokens; the gap is what the loop (sampling included) adds.
func BenchmarkGenerate(b *testing.B) {
	m, err := runner.LoadModel(context.Background(), benchModel(b, synth.FileTypeQ4_0), runner.ModelOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	c, err := m.NewContext(runner.ContextOptions{Ctx: 512, Threads: benchThreads()})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	p := runner.DefaultSampling()
	p.Seed = 1
	s, _ := runner.NewSampler(p)
	defer s.Close()
	prompt := []runner.Token{m.BOS()}
	o := runner.GenerateOptions{MaxTokens: 129, Sampler: s}
	gen := func() runner.Result {
		c.Reset()
		res, err := c.Generate(context.Background(), prompt, o, func([]byte) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
		return res
	}
	gen() // warm-up, as llama-bench does
	var wall, decode float64
	var toks int
	b.ReportAllocs() // per 128-token generation: the loop itself allocates nothing per token
	b.ResetTimer()
	for range b.N {
		res := gen()
		wall += res.GenTime.Seconds()
		decode += res.Perf.GenMs / 1000
		toks += res.Perf.GenTokens
	}
	b.ReportMetric(float64(toks)/wall, "tok/s")
	b.ReportMetric(float64(toks)/decode, "decode_tok/s")
	b.ReportMetric(100*(wall-decode)/decode, "overhead_%")
}

// BenchmarkPrompt measures prompt evaluation of 512 tokens, as llama-bench's pp512.
func BenchmarkPrompt(b *testing.B) {
	m, err := runner.LoadModel(context.Background(), benchModel(b, synth.FileTypeQ4_0), runner.ModelOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	c, err := m.NewContext(runner.ContextOptions{Ctx: 1024, Batch: 512, Threads: benchThreads()})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	s, _ := runner.NewSampler(runner.SamplingParams{Temp: 0, TopP: 1, RepeatPenalty: 1})
	defer s.Close()
	prompt := make([]runner.Token, 512)
	for i := range prompt {
		prompt[i] = runner.Token(100 + i%1000)
	}
	o := runner.GenerateOptions{MaxTokens: 1, Sampler: s}
	var wall, decode float64
	run := func() {
		c.Reset()
		res, err := c.Generate(context.Background(), prompt, o, nil)
		if err != nil {
			b.Fatal(err)
		}
		wall += res.PromptTime.Seconds()
		decode += res.Perf.PromptMs / 1000
	}
	run()
	wall, decode = 0, 0
	b.ResetTimer()
	for range b.N {
		run()
	}
	b.ReportMetric(float64(512*b.N)/wall, "tok/s")
	b.ReportMetric(float64(512*b.N)/decode, "decode_tok/s")
}

// benchModel is runner.BenchModel for a benchmark: $OLM_BENCH_MODEL or a TinyLlama-shaped
// file of type ft.
func benchModel(b *testing.B, ft synth.FileType) string {
	b.Helper()
	path, err := runner.BenchModel(context.Background(), ft, b.Logf)
	if err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkFiniteCheck: what refusing NaN logits (ErrBadLogits) costs per generated token,
// for Llama 2's and Qwen2.5's vocabulary sizes, beside the default sampler chain on the
// tiny test model's vocabulary:
//
//	go test -run '^$' -bench BenchmarkFiniteCheck ./runner/
func BenchmarkFiniteCheck(b *testing.B) {
	for _, n := range []int{32000, 152064} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			d := runner.FiniteCheckCost(n, b.N)
			b.ReportMetric(float64(d.Nanoseconds()), "ns/token")
		})
	}
}
