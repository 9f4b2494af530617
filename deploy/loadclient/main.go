// loadclient fires N concurrent streaming /api/generate requests (ollama's API, which both
// ollama and olm serve) and reports aggregate generation throughput and time to first token.
//
// Aggregate tokens/s = total generated tokens / wall time from the first request's send to
// the last stream's end. TTFT = request send to the first streamed chunk that carries a token
// (done=false). Tokens per request come from the final chunk's eval_count when the server
// reports it, else from the number of token chunks.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

type result struct {
	ttft   time.Duration
	end    time.Duration // since the common start
	tokens int
	err    error
}

type chunk struct {
	Response  string `json:"response"`
	Done      bool   `json:"done"`
	EvalCount int    `json:"eval_count"`
	Error     string `json:"error"`
}

func main() {
	url := flag.String("url", "http://127.0.0.1:11434", "server base URL")
	model := flag.String("model", "tiny", "model name")
	clients := flag.Int("clients", 4, "concurrent streaming requests")
	tokens := flag.Int("tokens", 64, "tokens to generate per request (num_predict)")
	prompt := flag.String("prompt", "Once upon a time, in a small village by the sea, there lived", "prompt (same for every client)")
	extra := flag.String("options", "{}", "extra ollama options as a JSON object, merged in (e.g. {\"num_thread\":2})")
	label := flag.String("label", "", "name printed with the result")
	timeout := flag.Duration("timeout", 10*time.Minute, "give up after this long")
	flag.Parse()

	opts := map[string]any{}
	if err := json.Unmarshal([]byte(*extra), &opts); err != nil {
		fatalf("-options: %v", err)
	}
	opts["num_predict"] = *tokens
	opts["temperature"] = 0
	body, _ := json.Marshal(map[string]any{"model": *model, "prompt": *prompt, "raw": true, "stream": true, "options": opts})

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	res := make([]result, *clients)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range res {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			res[i] = one(ctx, *url+"/api/generate", body, start)
		}(i)
	}
	wg.Wait()

	var total int
	var last time.Duration
	var ttfts []time.Duration
	for i, r := range res {
		if r.err != nil {
			fatalf("client %d: %v", i, r.err)
		}
		total += r.tokens
		last = max(last, r.end)
		ttfts = append(ttfts, r.ttft)
	}
	sort.Slice(ttfts, func(a, b int) bool { return ttfts[a] < ttfts[b] })
	per := make([]string, len(res))
	for i, r := range res {
		per[i] = fmt.Sprint(r.tokens)
	}
	fmt.Printf("%-28s clients=%d tokens=%d (per client %s) wall=%.2fs aggregate=%.2f tok/s ttft_p50=%.0fms ttft_p95=%.0fms\n",
		*label, *clients, total, strings.Join(per, ","), last.Seconds(), float64(total)/last.Seconds(),
		ms(pct(ttfts, 50)), ms(pct(ttfts, 95)))
}

// one sends a request and reads its NDJSON stream to the end.
func one(ctx context.Context, url string, body []byte, start time.Time) result {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return result{err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	sent := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return result{err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return result{err: fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(b.String()))}
	}
	var r result
	chunks, done := 0, false
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var c chunk
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			return result{err: fmt.Errorf("bad stream line %q: %w", sc.Text(), err)}
		}
		if c.Error != "" {
			return result{err: fmt.Errorf("server: %s", c.Error)}
		}
		if !c.Done {
			if chunks == 0 {
				r.ttft = time.Since(sent)
			}
			chunks++
			continue
		}
		done = true
		r.tokens = c.EvalCount
		if r.tokens == 0 {
			r.tokens = chunks
		}
		if chunks == 0 {
			r.ttft = time.Since(sent)
		}
	}
	if err := sc.Err(); err != nil {
		return result{err: err}
	}
	if !done {
		return result{err: fmt.Errorf("stream ended without a done chunk after %d tokens", chunks)}
	}
	r.end = time.Since(start)
	return r
}

// pct is the nearest-rank percentile of sorted d.
func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := (p*len(d)+99)/100 - 1
	return d[max(i, 0)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func fatalf(f string, a ...any) {
	fmt.Fprintf(os.Stderr, "loadclient: "+f+"\n", a...)
	os.Exit(1)
}
