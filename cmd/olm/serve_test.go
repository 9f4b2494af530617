package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/ollama/ollama/api"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"

	"github.com/olm-dev/olm/engine"
	"github.com/olm-dev/olm/internal/realmodel"
	"github.com/olm-dev/olm/models"
)

// served is an olm serve running in this test process, on a loopback port of its own,
// with empty caches and the real stories260K model imported as "stories".
type served struct {
	url  string
	stop context.CancelFunc
	done chan error
}

func startServe(t testing.TB, configure func(*serveOptions)) *served {
	t.Helper()
	stories := realmodel.Stories260K(t)
	hub, _, _ := fakeHub(t)
	_ = hub
	mustRun(t, "", "import", stories, "--name", "stories")
	t.Setenv("OLM_HOST", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	var errb syncWriter
	o := &serveOptions{ios: &ioStreams{In: strings.NewReader(""), Out: io.Discard, Err: &errb}, global: &globalOptions{},
		parallel: 4, batch: 512, maxQueue: 64, keepAlive: 5 * time.Minute, gpuLayers: 0, drain: 30 * time.Second,
		deps: loadModelDeps, ready: func(a string) { addr <- a }}
	if configure != nil {
		configure(o)
	}
	s := &served{stop: cancel, done: make(chan error, 1)}
	go func() { s.done <- runServe(ctx, o) }()
	select {
	case a := <-addr:
		s.url = "http://" + a
	case err := <-s.done:
		t.Fatalf("olm serve did not start: %v; stderr: %s", err, errb.String())
	}
	t.Cleanup(func() {
		cancel()
		if err := <-s.done; err != nil {
			t.Errorf("olm serve: %v", err)
		}
	})
	return s
}

type syncWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func oaClient(s *served, opts ...option.RequestOption) openai.Client {
	return openai.NewClient(append([]option.RequestOption{option.WithBaseURL(s.url + "/v1"), option.WithAPIKey("any"),
		option.WithMaxRetries(0)}, opts...)...)
}

// englishLooking: mostly letters and spaces, several words, nothing unprintable.
func englishLooking(t *testing.T, text string) {
	t.Helper()
	words := strings.Fields(text)
	letters := 0
	for _, r := range text {
		if !unicode.IsPrint(r) && r != '\n' {
			t.Fatalf("unprintable %q in %q", r, text)
		}
		if unicode.IsLetter(r) || r == ' ' {
			letters++
		}
	}
	if len(words) < 4 || letters*10 < len(text)*8 {
		t.Fatalf("not English-looking text: %q", text)
	}
}

func TestServeOpenAIClient(t *testing.T) {
	s := startServe(t, nil)
	c := oaClient(s)
	ctx := context.Background()
	params := openai.ChatCompletionNewParams{
		Model:       "stories",
		Messages:    []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Once upon a time")},
		MaxTokens:   openai.Int(24),
		Temperature: openai.Float(0),
	}
	resp, err := c.Chat.Completions.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Choices) != 1 || resp.Choices[0].FinishReason != "length" || resp.Usage.CompletionTokens != 24 || resp.Usage.PromptTokens == 0 {
		t.Fatalf("response %+v", resp)
	}
	text := resp.Choices[0].Message.Content
	englishLooking(t, text)

	params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	stream := c.Chat.Completions.NewStreaming(ctx, params)
	var acc openai.ChatCompletionAccumulator
	chunks := 0
	for stream.Next() {
		acc.AddChunk(stream.Current())
		if len(stream.Current().Choices) > 0 && stream.Current().Choices[0].Delta.Content != "" {
			chunks++
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if got := acc.Choices[0].Message.Content; got != text {
		t.Fatalf("streamed %q, non-streamed %q (greedy: they must match)", got, text)
	}
	if acc.Usage.CompletionTokens != 24 || acc.Usage.PromptTokens != resp.Usage.PromptTokens || chunks < 2 {
		t.Fatalf("stream usage %+v over %d chunks", acc.Usage, chunks)
	}

	continuousUsage(t, s, resp.Usage.PromptTokens)

	comp, err := c.Completions.New(ctx, openai.CompletionNewParams{Model: "stories",
		Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String("Once upon a time")}, MaxTokens: openai.Int(16), Temperature: openai.Float(0)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(comp.Choices[0].Text, ", there was a little girl") || comp.Usage.CompletionTokens != 16 {
		t.Fatalf("completion %q, usage %+v", comp.Choices[0].Text, comp.Usage)
	}

	page, err := c.Models.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, m := range page.Data {
		found = found || m.ID == "stories"
	}
	if !found {
		t.Fatalf("models list %+v lacks stories", page.Data)
	}
	if m, err := c.Models.Get(ctx, "stories"); err != nil || m.ID != "stories" {
		t.Fatalf("model: %+v, %v", m, err)
	}

	// The SDK's error type carries our statuses.
	var apiErr *openai.Error
	_, err = c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "storiez",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}})
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || !strings.Contains(apiErr.Message, "did you mean stories") {
		t.Fatalf("unknown model: %v", err)
	}
	_, err = c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "stories", N: openai.Int(2),
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}})
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Param != "n" {
		t.Fatalf("n=2: %v", err)
	}
}

// continuousUsage: with stream_options.continuous_usage_stats every chunk carries the
// tokens drawn so far (a chunk may carry several), so a client that stops the stream
// knows how many its text took: that many tokens, asked for whole, give the same text.
func continuousUsage(t *testing.T, s *served, promptTokens int64) {
	t.Helper()
	const n = 200
	req := `{"model":"stories","temperature":0,"max_tokens":%d,"stream":%t,` +
		`"stream_options":{"include_usage":true,"continuous_usage_stats":true},"messages":[{"role":"user","content":"Once upon a time"}]}`
	resp, err := http.Post(s.url+"/v1/chat/completions", "application/json", strings.NewReader(fmt.Sprintf(req, n, true)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	type mark struct {
		tokens int
		text   string
	}
	var marks []mark
	var text strings.Builder
	last := -1
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok || data == "[DONE]" {
			continue
		}
		var ev struct {
			Choices []struct{ Delta struct{ Content string } }
			Usage   *struct {
				PromptTokens     int `json:"prompt_tokens"`
				CompletionTokens int `json:"completion_tokens"`
				TotalTokens      int `json:"total_tokens"`
			}
		}
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			t.Fatalf("event %s: %v", data, err)
		}
		u := ev.Usage
		if u == nil || int64(u.PromptTokens) != promptTokens || u.TotalTokens != u.PromptTokens+u.CompletionTokens || u.CompletionTokens < last {
			t.Fatalf("event %s: usage so far missing or wrong (prompt %d, previous count %d)", data, promptTokens, last)
		}
		last = u.CompletionTokens
		if len(ev.Choices) > 0 && ev.Choices[0].Delta.Content != "" {
			text.WriteString(ev.Choices[0].Delta.Content)
			marks = append(marks, mark{u.CompletionTokens, text.String()})
		}
	}
	if last != n || len(marks) < 2 {
		t.Fatalf("stream ended with %d tokens over %d text chunks", last, len(marks))
	}
	mid := marks[len(marks)/2]
	code, body := post(t, s.url+"/v1/chat/completions", strings.Replace(fmt.Sprintf(req, mid.tokens, false), `"stream_options":{"include_usage":true,"continuous_usage_stats":true},`, "", 1))
	var whole struct {
		Choices []struct{ Message struct{ Content string } }
	}
	json.Unmarshal([]byte(body), &whole)
	if code != 200 || len(whole.Choices) != 1 || whole.Choices[0].Message.Content != mid.text {
		t.Fatalf("the stream had %q after %d tokens; those tokens asked for whole: %d %s", mid.text, mid.tokens, code, body)
	}
}

func TestServeOllamaClient(t *testing.T) {
	s := startServe(t, nil)
	c := api.NewClient(mustURL(t, s.url), http.DefaultClient)
	ctx := context.Background()
	var text strings.Builder
	var last api.ChatResponse
	err := c.Chat(ctx, &api.ChatRequest{Model: "stories", Messages: []api.Message{{Role: "user", Content: "Once upon a time"}},
		Options: map[string]any{"temperature": 0, "num_predict": 20}}, func(r api.ChatResponse) error {
		text.WriteString(r.Message.Content)
		last = r
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	englishLooking(t, text.String())
	if !last.Done || last.DoneReason != "length" || last.EvalCount != 20 || last.PromptEvalCount == 0 || last.TotalDuration <= 0 || last.EvalDuration <= 0 {
		t.Fatalf("final chat response %+v", last)
	}

	var gen strings.Builder
	f := false
	err = c.Generate(ctx, &api.GenerateRequest{Model: "stories", Prompt: "Once upon a time", Raw: true, Stream: &f,
		Options: map[string]any{"temperature": 0, "num_predict": 12}}, func(r api.GenerateResponse) error {
		gen.WriteString(r.Response)
		if !r.Done || r.EvalCount != 12 {
			t.Errorf("non-streamed generate %+v", r)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(gen.String(), ", there was a little girl") {
		t.Fatalf("generate %q", gen.String())
	}

	list, err := c.List(ctx)
	if err != nil || !containsModel(list.Models, "stories") {
		t.Fatalf("list %+v, %v", list, err)
	}
	show, err := c.Show(ctx, &api.ShowRequest{Model: "stories"})
	if err != nil || show.Details.Family != "llama" || show.Details.Format != "gguf" {
		t.Fatalf("show %+v, %v", show, err)
	}
	ps, err := c.ListRunning(ctx)
	if err != nil || len(ps.Models) != 1 || ps.Models[0].Name != "stories" {
		t.Fatalf("ps %+v, %v", ps, err)
	}
	if v, err := c.Version(ctx); err != nil || v == "" {
		t.Fatalf("version %q, %v", v, err)
	}

	// Pull from the fake hub, with ollama's progress stream.
	var statuses []string
	var completed int64
	err = c.Pull(ctx, &api.PullRequest{Model: tinyName}, func(p api.ProgressResponse) error {
		statuses = append(statuses, p.Status)
		completed = max(completed, p.Completed)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if statuses[0] != "pulling manifest" || statuses[len(statuses)-1] != "success" || completed != int64(len(tinyBytes(t))) {
		t.Fatalf("pull progress %v, completed %d of %d", statuses, completed, len(tinyBytes(t)))
	}
	list, _ = c.List(ctx)
	if !containsModel(list.Models, tinyName) {
		t.Fatalf("pulled model not listed: %+v", list.Models)
	}
	if err := c.Delete(ctx, &api.DeleteRequest{Model: tinyName}); err != nil {
		t.Fatal(err)
	}
	var se api.StatusError
	if err := c.Delete(ctx, &api.DeleteRequest{Model: tinyName}); !errors.As(err, &se) || se.StatusCode != 404 {
		t.Fatalf("second delete: %v", err)
	}
}

func containsModel(ms []api.ListModelResponse, name string) bool {
	for _, m := range ms {
		if m.Name == name {
			return true
		}
	}
	return false
}

func mustURL(t *testing.T, s string) *urlT {
	t.Helper()
	u, err := parseURL(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestServeConcurrentClients: eight clients stream at once and each gets the text its
// prompt gets alone.
func TestServeConcurrentClients(t *testing.T) {
	s := startServe(t, nil)
	c := oaClient(s)
	prompts := []string{"Once upon a time", "The little dog", "Tom had a red", "One day, Lily", "The sun was", "A big cat", "Mom said", "The bird flew"}
	ask := func(p string, stream bool) (string, error) {
		params := openai.CompletionNewParams{Model: "stories", Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String(p)},
			MaxTokens: openai.Int(32), Temperature: openai.Float(0)}
		if !stream {
			r, err := c.Completions.New(context.Background(), params)
			if err != nil {
				return "", err
			}
			return r.Choices[0].Text, nil
		}
		st := c.Completions.NewStreaming(context.Background(), params)
		var b strings.Builder
		for st.Next() {
			if ch := st.Current().Choices; len(ch) > 0 {
				b.WriteString(ch[0].Text)
			}
		}
		return b.String(), st.Err()
	}
	alone := make([]string, len(prompts))
	for i, p := range prompts {
		var err error
		if alone[i], err = ask(p, false); err != nil {
			t.Fatal(err)
		}
	}
	got := make([]string, len(prompts))
	errs := make([]error, len(prompts))
	var wg sync.WaitGroup
	for i, p := range prompts {
		wg.Add(1)
		go func() { defer wg.Done(); got[i], errs[i] = ask(p, true) }()
	}
	wg.Wait()
	for i := range prompts {
		if errs[i] != nil {
			t.Fatalf("client %d: %v", i, errs[i])
		}
		// Batched decoding is not bit-identical to decoding alone (other rows change the
		// kernels' summation order), so a near-tie late in a greedy run may flip; runner's
		// TestBatchedDecodeMatchesAlone checks that tolerance token by token. Here the
		// claim is isolation: each client's text is its own prompt's continuation, agreeing
		// with the alone run for its first words and closer to it than to any other's.
		if got[i] == "" {
			t.Fatalf("client %d (%q): empty text", i, prompts[i])
		}
		own := sharedWords(got[i], alone[i])
		if own < 8 && got[i] != alone[i] {
			t.Errorf("client %d (%q): %q together, %q alone: only %d words agree", i, prompts[i], got[i], alone[i], own)
		}
		for j := range prompts {
			if j != i && alone[j] != alone[i] && sharedWords(got[i], alone[j]) > own {
				t.Errorf("client %d (%q) got %q, closer to client %d's text %q than to its own", i, prompts[i], got[i], j, alone[j])
			}
		}
	}
}

// sharedWords counts the leading words two texts have in common.
func sharedWords(a, b string) int {
	wa, wb := strings.Fields(a), strings.Fields(b)
	n := 0
	for n < len(wa) && n < len(wb) && wa[n] == wb[n] {
		n++
	}
	return n
}

// metric reads one series from /metrics.
func metric(t *testing.T, s *served, name string) float64 {
	t.Helper()
	resp, err := http.Get(s.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `(\{[^}]*\})? ([0-9.e+-]+)$`)
	b, _ := io.ReadAll(resp.Body)
	total, found := 0.0, false
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		total += v
		found = true
	}
	if !found {
		return -1
	}
	return total
}

// waitMetric polls /metrics until cond holds for the series (the server publishes it from
// its own goroutines); it fails after 20 s.
func waitMetric(t *testing.T, s *served, name string, cond func(float64) bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if v := metric(t, s, name); cond(v) {
			return
		} else if time.Now().After(deadline) {
			t.Fatalf("%s = %v: condition not reached", name, v)
		}
		runtimeGosched()
	}
}

// streamUntilFirst starts a streaming completion and returns once its first event came;
// cancel cuts the stream as a client that goes away.
func streamUntilFirst(t *testing.T, s *served, body string) (cancel func(), done chan int) {
	t.Helper()
	ctx, cancelFn := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", s.url+"/v1/completions", strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	r := bufio.NewReader(resp.Body)
	if _, err := r.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	done = make(chan int, 1)
	go func() {
		n, _ := io.Copy(io.Discard, r)
		resp.Body.Close()
		done <- int(n)
	}()
	return cancelFn, done
}

const longStory = `{"model":"stories","prompt":"Once upon a time","max_tokens":1900,"stream":true}`

func TestServeDisconnectFreesItsSlot(t *testing.T) {
	s := startServe(t, nil)
	cancel, done := streamUntilFirst(t, s, longStory)
	waitMetric(t, s, "olm_slots_busy", func(v float64) bool { return v == 1 })
	cancel()
	<-done
	waitMetric(t, s, "olm_slots_busy", func(v float64) bool { return v == 0 })
	// Its cells went with it: what stays cached is at most the short prompt of nothing else.
	if v := metric(t, s, "olm_kv_cells_used"); v > 10 {
		t.Fatalf("%v cells still used after the only request was cut", v)
	}
}

func TestServeQueueBoundGives503(t *testing.T) {
	s := startServe(t, func(o *serveOptions) { o.parallel, o.maxQueue = 1, 1 })
	cancel1, done1 := streamUntilFirst(t, s, longStory)
	defer func() { cancel1(); <-done1 }()
	ctx2, cancel2 := context.WithCancel(context.Background())
	queued := make(chan struct{})
	go func() {
		defer close(queued)
		req, _ := http.NewRequestWithContext(ctx2, "POST", s.url+"/v1/completions", strings.NewReader(longStory))
		if resp, err := http.DefaultClient.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	waitMetric(t, s, "olm_queue_depth", func(v float64) bool { return v == 1 })
	resp, err := http.Post(s.url+"/v1/completions", "application/json", strings.NewReader(longStory))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(b), "queue is full") {
		t.Fatalf("third request: %d %q (Retry-After %q)", resp.StatusCode, b, resp.Header.Get("Retry-After"))
	}
	cancel2()
	<-queued
}

func TestServeBadInput(t *testing.T) {
	s := startServe(t, func(o *serveOptions) { o.ctx = 256 })
	long := strings.Repeat("the cat sat on the mat and ", 80)
	for _, c := range []struct {
		name, path, body string
		status           int
		want             string
	}{
		{"malformed JSON", "/v1/chat/completions", `{"model":"stories",`, 400, "malformed JSON"},
		{"wrong type", "/v1/chat/completions", `{"model":"stories","messages":"hi"}`, 400, "messages"},
		{"empty body", "/api/chat", ``, 400, "empty request body"},
		{"unknown model", "/api/chat", `{"model":"storie","messages":[{"role":"user","content":"hi"}]}`, 404, "did you mean stories"},
		{"empty messages", "/v1/chat/completions", `{"model":"stories","messages":[]}`, 400, "messages is empty"},
		{"bad role", "/v1/chat/completions", `{"model":"stories","messages":[{"role":"wizard","content":"hi"}]}`, 400, "is not one of system"},
		{"too long", "/v1/completions", `{"model":"stories","prompt":"` + long + `"}`, 400, "context holds 256"},
		{"unsupported", "/v1/chat/completions", `{"model":"stories","messages":[{"role":"user","content":"hi"}],"logit_bias":{"1":2},"logprobs":true}`, 400, "unsupported parameter(s): logit_bias, logprobs"},
		{"unsupported option", "/api/generate", `{"model":"stories","prompt":"hi","options":{"mirostat_eta":1}}`, 400, "unsupported option(s): mirostat_eta"},
		{"bad temperature", "/api/generate", `{"model":"stories","prompt":"hi","options":{"temperature":-1}}`, 400, "temp -1"},
		{"bad keep_alive", "/api/generate", `{"model":"stories","prompt":"hi","keep_alive":"soon"}`, 400, "keep_alive"},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, err := http.Post(s.url+c.path, "application/json", strings.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.status || !strings.Contains(string(b), c.want) {
				t.Fatalf("%d %s; want %d with %q", resp.StatusCode, b, c.status, c.want)
			}
			var shape map[string]any
			if err := json.Unmarshal(b, &shape); err != nil || shape["error"] == nil {
				t.Fatalf("error body %s is not {\"error\": ...}", b)
			}
		})
	}
	// With truncation asked for, the long prompt is cut instead of refused.
	resp, err := http.Post(s.url+"/api/generate", "application/json",
		strings.NewReader(`{"model":"stories","prompt":"`+long+`","raw":true,"truncate":true,"stream":false,"options":{"num_predict":4}}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"eval_count":4`) {
		t.Fatalf("truncated request: %d %s", resp.StatusCode, b)
	}
}

func TestServeAPIKey(t *testing.T) {
	s := startServe(t, func(o *serveOptions) { o.apiKey = "sekrit" })
	get := func(path, key string) int {
		req, _ := http.NewRequest("GET", s.url+path, nil)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if get("/v1/models", "") != 401 || get("/v1/models", "wrong") != 401 || get("/v1/models", "sekrit") != 200 || get("/health", "") != 200 {
		t.Fatal("API key not enforced as it should be")
	}
	c := oaClient(s, option.WithAPIKey("wrong"))
	var apiErr *openai.Error
	if _, err := c.Models.List(context.Background()); !errors.As(err, &apiErr) || apiErr.StatusCode != 401 || apiErr.Type != "authentication_error" {
		t.Fatalf("wrong key through the SDK: %v", err)
	}
}

func TestServeRefusesOpenBindWithoutKey(t *testing.T) {
	_, _, _ = fakeHub(t)
	t.Setenv("OLM_HOST", "0.0.0.0:0")
	t.Setenv("OLM_API_KEY", "")
	err := runServe(context.Background(), &serveOptions{ios: &ioStreams{Err: io.Discard}, global: &globalOptions{}, parallel: 1, batch: 1, deps: loadModelDeps})
	if err == nil || !strings.Contains(err.Error(), "--no-auth") {
		t.Fatalf("err = %v", err)
	}
}

// TestServeDrainsOnStop: stopping (SIGTERM takes the same path) lets a running answer
// finish, and the server exits cleanly.
func TestServeDrainsOnStop(t *testing.T) {
	s := startServe(t, nil)
	req, _ := http.NewRequest("POST", s.url+"/v1/completions", strings.NewReader(`{"model":"stories","prompt":"Once upon a time","max_tokens":200,"stream":true}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(resp.Body)
	if _, err := r.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	s.stop()
	rest, _ := io.ReadAll(r)
	resp.Body.Close()
	if !strings.Contains(string(rest), `"finish_reason":"length"`) || !strings.HasSuffix(strings.TrimSpace(string(rest)), "data: [DONE]") {
		t.Fatalf("the running answer did not finish: %q", rest)
	}
	if _, err := http.Get(s.url + "/health"); err == nil {
		t.Fatal("server still accepts after stop")
	}
}

// TestServeSoak: 300 requests from 8 clients, some cut mid-stream, leave goroutines at
// their baseline and memory flat after warm-up.
func TestServeSoak(t *testing.T) {
	s := startServe(t, nil)
	tr := &http.Transport{}
	client := &http.Client{Transport: tr}
	run := func(n int) {
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < n; i += 8 {
					ctx, cancel := context.WithCancel(context.Background())
					body := fmt.Sprintf(`{"model":"stories","prompt":"Story %d: once","max_tokens":%d,"stream":true}`, i, 8+i%17)
					req, _ := http.NewRequestWithContext(ctx, "POST", s.url+"/v1/completions", strings.NewReader(body))
					resp, err := client.Do(req)
					if err == nil {
						if i%5 == 0 { // a client that goes away after the first event
							bufio.NewReader(resp.Body).ReadString('\n')
						} else {
							io.Copy(io.Discard, resp.Body)
						}
						resp.Body.Close()
					}
					cancel()
				}
			}()
		}
		wg.Wait()
		tr.CloseIdleConnections()
	}
	run(40) // warm-up: the model loads, buffers reach their size
	waitMetric(t, s, "olm_slots_busy", func(v float64) bool { return v == 0 })
	g0, rss0 := numGoroutine(), rssBytes(t)
	run(300)
	waitMetric(t, s, "olm_slots_busy", func(v float64) bool { return v == 0 })
	waitFor(t, func() bool { return numGoroutine() <= g0+2 })
	if rss := rssBytes(t); float64(rss) > float64(rss0)*1.05 {
		t.Fatalf("RSS grew from %d to %d bytes over 300 requests", rss0, rss)
	}
	if v := metric(t, s, "olm_requests_total"); v < 340 {
		t.Fatalf("only %v requests counted", v)
	}
}

func rssBytes(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b))
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// TestServeSlowHeadersAreCut: a client that sends its headers slower than the timeout
// loses the connection without an answer.
func TestServeSlowHeadersAreCut(t *testing.T) {
	s := startServe(t, func(o *serveOptions) { o.headerTimeout = 300 * time.Millisecond })
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET /v1/models HTTP/1.1\r\nHost: x\r\n")); err != nil { // no blank line: headers never end
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	b, err := io.ReadAll(conn)
	if err != nil {
		t.Fatalf("the server kept the connection: %v", err)
	}
	if strings.Contains(string(b), "200 OK") {
		t.Fatalf("answered a request whose headers never ended: %q", b)
	}
}

func post(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func running(t *testing.T, s *served) []string {
	t.Helper()
	resp, err := http.Get(s.url + "/api/ps")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ps struct {
		Models []struct{ Name string } `json:"models"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ps); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range ps.Models {
		names = append(names, m.Name)
	}
	return names
}

// TestServePullIsOptIn: a model not on this machine is a 404 that says how to get it;
// with --pull the request pulls it from the hub and answers.
func TestServePullIsOptIn(t *testing.T) {
	s := startServe(t, nil)
	code, body := post(t, s.url+"/api/generate", `{"model":"`+tinyName+`","prompt":"hi","stream":false,"options":{"num_predict":2}}`)
	if code != 404 || !strings.Contains(body, "olm pull") || !strings.Contains(body, "--pull") {
		t.Fatalf("without --pull: %d %s", code, body)
	}
	s.stop()
	<-s.done
	s.done <- nil // the cleanup's wait
	p := startServe(t, func(o *serveOptions) { o.pull = true })
	code, body = post(t, p.url+"/api/generate", `{"model":"`+tinyName+`","prompt":"hi","raw":true,"stream":false,"options":{"num_predict":2}}`)
	if code != 200 || !strings.Contains(body, `"eval_count":2`) {
		t.Fatalf("with --pull: %d %s", code, body)
	}
}

// TestServeKeepAliveAndMemoryBudget: keep_alive 0 unloads after the answer; with room for
// one model only, loading a second unloads the idle first.
func TestServeKeepAliveAndMemoryBudget(t *testing.T) {
	size := func(path string) int64 {
		info, err := models.Inspect(path)
		if err != nil {
			t.Fatal(err)
		}
		return info.Memory(engine.DefaultContext(info.ContextLength) * 4).Total
	}
	stories := realmodel.Stories260K(t)
	budget := max(size(stories), size(tinyModel)) + 1
	s := startServe(t, func(o *serveOptions) { o.memory = budget })
	mustRun(t, "", "import", tinyModel, "--name", "tiny")
	ask := func(model, extra string) {
		t.Helper()
		if code, body := post(t, s.url+"/api/generate", `{"model":"`+model+`","prompt":"Once","raw":true,"stream":false,"options":{"num_predict":2}`+extra+`}`); code != 200 {
			t.Fatalf("%s: %d %s", model, code, body)
		}
	}
	ask("stories", "")
	if got := running(t, s); strings.Join(got, ",") != "stories" {
		t.Fatalf("running %v", got)
	}
	ask("tiny", "") // no room for both: stories, idle, goes
	if got := running(t, s); strings.Join(got, ",") != "tiny" {
		t.Fatalf("after loading tiny in a one-model budget: running %v", got)
	}
	ask("tiny", `,"keep_alive":0`)
	if got := running(t, s); len(got) != 0 {
		t.Fatalf("keep_alive 0 left %v loaded", got)
	}
}

// TestServeStructuredOutput: OpenAI's response_format json_schema and ollama's format reach
// the grammar sampler, so even the story model answers JSON matching the schema; a schema
// the converter cannot take is a 400.
func TestServeStructuredOutput(t *testing.T) {
	s := startServe(t, nil)
	schema := map[string]any{"type": "object", "required": []string{"name", "age"}, "additionalProperties": false,
		"properties": map[string]any{"name": map[string]any{"type": "string", "maxLength": 12}, "age": map[string]any{"type": "integer", "minimum": 0}}}
	c := oaClient(s)
	resp, err := c.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model: "stories", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Once upon a time")},
		MaxTokens: openai.Int(120), Temperature: openai.Float(1), Seed: openai.Int(3),
		ResponseFormat: openai.ChatCompletionNewParamsResponseFormatUnion{OfJSONSchema: &shared.ResponseFormatJSONSchemaParam{
			JSONSchema: shared.ResponseFormatJSONSchemaJSONSchemaParam{Name: "person", Schema: schema, Strict: openai.Bool(true)}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Name *string `json:"name"`
		Age  *int    `json:"age"`
	}
	text := resp.Choices[0].Message.Content
	if err := json.Unmarshal([]byte(text), &got); err != nil || got.Name == nil || got.Age == nil || *got.Age < 0 {
		t.Fatalf("response_format json_schema: %q (%v)", text, err)
	}

	oc := api.NewClient(mustURL(t, s.url), http.DefaultClient)
	f := false
	var gen string
	err = oc.Generate(context.Background(), &api.GenerateRequest{Model: "stories", Prompt: "Once upon a time", Raw: true, Stream: &f,
		Format: json.RawMessage(`"json"`), Options: map[string]any{"num_predict": 60, "seed": 1}}, func(r api.GenerateResponse) error {
		gen += r.Response
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(gen), &obj); err != nil && !strings.HasPrefix(strings.TrimSpace(gen), "{") {
		t.Fatalf("format json: %q is not a JSON object (%v)", gen, err)
	}

	code, body := post(t, s.url+"/v1/chat/completions", `{"model":"stories","messages":[{"role":"user","content":"hi"}],
		"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"$ref":"https://example.com/remote.json"}}}}`)
	if code != 400 || !strings.Contains(body, "response_format") {
		t.Fatalf("unconvertible schema: %d %s", code, body)
	}
}
