package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/olm-dev/olm/engine"
	"github.com/olm-dev/olm/runner"
	"github.com/olm-dev/olm/synth"
)

// BenchmarkServeLoad drives a real olm serve (default settings: 4 slots) with 1, 4 and 16
// concurrent streaming clients, each asking for 64 tokens, and reports aggregate tokens/s,
// time to first token and time per token (p50, p95), beside the same requests run on the
// engine directly (no HTTP) in the same sitting: the HTTP layer's cost is their ratio.
//
//	OLM_BENCH_MODEL=tinyllama-1.1b-q4_k_m.gguf go test ./cmd/olm -run '^$' -bench ServeLoad -benchtime 1x
func BenchmarkServeLoad(b *testing.B) {
	path, err := runner.BenchModel(context.Background(), synth.FileTypeQ4_K_M, b.Logf)
	if err != nil {
		b.Fatal(err)
	}
	s := startServe(b, func(o *serveOptions) { o.threads = 2 })
	mustRun(b, "", "import", path, "--name", "bench")
	stream(context.Background(), s.url, "warm up", 2, nil) // the model loads outside the timings
	const gen = 64
	prompt := func(i int) string {
		return fmt.Sprintf("Request %d. %s", i, strings.Repeat("The quick brown fox jumps over the lazy dog. ", 5))
	}
	for _, n := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) {
			for range b.N {
				httpTPS, ttft, tpot := loadRound(b, s.url, n, gen, prompt)
				engTPS := engineRound(b, path, n, gen, prompt)
				b.ReportMetric(httpTPS, "http-t/s")
				b.ReportMetric(engTPS, "engine-t/s")
				b.ReportMetric(httpTPS/engTPS, "http/engine")
				b.ReportMetric(pct(ttft, 50).Seconds()*1000, "ttft-p50-ms")
				b.ReportMetric(pct(ttft, 95).Seconds()*1000, "ttft-p95-ms")
				b.ReportMetric(pct(tpot, 50).Seconds()*1000, "tpot-p50-ms")
				b.ReportMetric(pct(tpot, 95).Seconds()*1000, "tpot-p95-ms")
			}
		})
	}
	b.Run("join-while-3-stream", func(b *testing.B) {
		// A fourth request's first token while three others stream, against its prompt
		// time alone plus two decode steps at four sequences.
		_, alone, _ := loadRound(b, s.url, 1, 2, prompt)
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		started := make(chan struct{}, 3)
		var mu sync.Mutex
		var steps []time.Duration
		for i := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, gaps := stream(ctx, s.url, prompt(100+i), 2000, func() { started <- struct{}{} })
				mu.Lock()
				steps = append(steps, gaps...)
				mu.Unlock()
			}()
		}
		for range 3 {
			<-started
		}
		ttft, _ := stream(context.Background(), s.url, prompt(200), 2, nil)
		cancel()
		wg.Wait()
		step := pct(steps, 50)
		b.ReportMetric(ttft.Seconds()*1000, "join-ttft-ms")
		b.ReportMetric(alone[0].Seconds()*1000, "alone-ttft-ms")
		b.ReportMetric(step.Seconds()*1000, "step-ms")
		b.ReportMetric(float64(ttft)/float64(alone[0]+2*step), "ttft/(alone+2steps)")
	})
}

// stream runs one streaming completion; it returns the time to the first token and the
// gaps between later text events. onFirst is called at the first token.
func stream(ctx context.Context, url, prompt string, maxTokens int, onFirst func()) (time.Duration, []time.Duration) {
	first, gaps, _ := streamCount(ctx, url, prompt, maxTokens, onFirst)
	return first, gaps
}

// streamCount is stream that also returns the completion tokens the usage chunk reports
// (an event can carry several tokens' text, so events undercount).
func streamCount(ctx context.Context, url, prompt string, maxTokens int, onFirst func()) (time.Duration, []time.Duration, int) {
	body := fmt.Sprintf(`{"model":"bench","prompt":%q,"max_tokens":%d,"stream":true,"temperature":0,"stream_options":{"include_usage":true}}`, prompt, maxTokens)
	req, _ := http.NewRequestWithContext(ctx, "POST", url+"/v1/completions", strings.NewReader(body))
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, 0
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	var first time.Duration
	var gaps []time.Duration
	tokens := 0
	last := start
	for sc.Scan() {
		line := sc.Text()
		if i := strings.Index(line, `"completion_tokens":`); i >= 0 {
			fmt.Sscan(line[i+len(`"completion_tokens":`):], &tokens)
		}
		if !strings.HasPrefix(line, "data: {") || !strings.Contains(line, `"text":"`) || strings.Contains(line, `"text":""`) {
			continue
		}
		now := time.Now()
		if first == 0 {
			first = now.Sub(start)
			if onFirst != nil {
				onFirst()
			}
		} else {
			gaps = append(gaps, now.Sub(last))
		}
		last = now
	}
	return first, gaps, tokens
}

func loadRound(b *testing.B, url string, n, gen int, prompt func(int) string) (tps float64, ttft, tpot []time.Duration) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	tokens := 0
	start := time.Now()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, gaps, n := streamCount(context.Background(), url, prompt(i), gen, nil)
			mu.Lock()
			ttft = append(ttft, f)
			tpot = append(tpot, gaps...)
			tokens += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	return float64(tokens) / time.Since(start).Seconds(), ttft, tpot
}

// engineRound runs the same requests on an engine of its own (the server's defaults: 4
// slots, 2 threads), with no HTTP.
func engineRound(b *testing.B, path string, n, gen int, prompt func(int) string) float64 {
	m, err := engine.Open(context.Background(), engine.OpenOptions{Path: path, Raw: true, Slots: 4, Model: runner.ModelOptions{GPULayers: 0},
		Context: func(lm *runner.Model) runner.ContextOptions {
			return runner.ContextOptions{Ctx: engine.DefaultContext(lm.TrainCtx()), Batch: 512, Threads: 2}
		}})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	var wg sync.WaitGroup
	var mu sync.Mutex
	tokens := 0
	start := time.Now()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			toks, _ := m.LM.Tokenize(prompt(i), true, false)
			s := runner.DefaultSampling()
			s.Temp = 0
			r, err := m.Engine.Generate(context.Background(), engine.Request{Prompt: toks, Sampling: s, MaxTokens: gen}, func([]byte) error { return nil })
			if err != nil {
				b.Error(err)
			}
			mu.Lock()
			tokens += r.GenTokens
			mu.Unlock()
		}()
	}
	wg.Wait()
	return float64(tokens) / time.Since(start).Seconds()
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}
