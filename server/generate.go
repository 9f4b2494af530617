package server

import (
	"context"
	"net/http"
	"time"

	"github.com/olm-dev/olm/chat/template"
	"github.com/olm-dev/olm/engine"
	"github.com/olm-dev/olm/runner"
)

// genRequest is what both APIs ask of a model, in olm's terms.
type genRequest struct {
	model     string
	messages  []template.Message // chat; nil for a raw completion
	prompt    string             // completion
	sampling  runner.SamplingParams
	maxTokens int
	maxCtx    int // ollama's num_ctx: at most this many tokens of prompt and answer (0: the slot's)
	stop      []string
	truncate  bool // drop the oldest messages (never the system prompt) rather than refuse
	keepAlive *time.Duration
}

// genResult is what the APIs report back.
type genResult struct {
	engine.Result
	model     string
	loadDur   time.Duration
	totalDur  time.Duration
	truncated int // messages dropped to fit
}

// finishReason maps olm's stop reasons to OpenAI's (ollama's done_reason uses the same two).
func finishReason(r runner.StopReason) string {
	switch r {
	case runner.StopMaxTokens, runner.StopContextFull:
		return "length"
	}
	return "stop"
}

// generate runs g on its model, calling onText with each piece of text as it comes (on this
// goroutine), and reports errors that happen before the first token as errors: the
// handler then answers with an error status instead of a broken stream.
func (s *Server) generate(ctx context.Context, g genRequest, onStart func(), onText func([]byte) error) (genResult, error) {
	start := s.cfg.Now()
	res := genResult{model: g.model}
	l, err := s.models.acquire(ctx, g.model, g.keepAlive)
	if err != nil {
		return res, err
	}
	defer s.models.release(l, g.keepAlive)
	res.model, res.loadDur = l.name, s.cfg.Now().Sub(start) // loading it, or waiting for its load
	prompt, dropped, err := s.promptFor(l.m, g)
	if err != nil {
		return res, err
	}
	res.truncated = dropped
	req := engine.Request{Prompt: prompt, Sampling: g.sampling, MaxTokens: g.maxTokens, Stop: l.m.Stops(g.stop)}
	if g.messages == nil {
		req.Stop = g.stop
	}
	if g.maxCtx > 0 {
		room := g.maxCtx - len(prompt)
		if room <= 0 {
			return res, &engine.ContextError{Tokens: len(prompt), Ctx: g.maxCtx}
		}
		if req.MaxTokens <= 0 || req.MaxTokens > room {
			req.MaxTokens = room
		}
	}
	if onStart != nil {
		onStart()
	}
	r, err := l.m.Engine.Generate(ctx, req, onText)
	res.Result = r
	res.totalDur = s.cfg.Now().Sub(start)
	s.metrics.promptTokens.Add(float64(r.PromptTokens))
	s.metrics.genTokens.Add(float64(r.GenTokens))
	if !r.FirstToken.IsZero() {
		s.metrics.ttft.Observe((r.Queued + r.PromptTime).Seconds())
		if r.GenTokens > 1 {
			s.metrics.tpot.Observe(r.GenTime.Seconds() / float64(r.GenTokens-1))
		}
	}
	return res, err
}

// promptFor tokenizes the request: chat messages through the model's chat template,
// completions as raw text. A prompt longer than the slot is refused, unless the request
// asked for truncation, which drops the oldest messages after the system prompt.
func (s *Server) promptFor(m *engine.Model, g genRequest) ([]runner.Token, int, error) {
	limit := m.Engine.SlotCtx()
	if g.maxCtx > 0 {
		limit = min(limit, g.maxCtx)
	}
	if g.messages == nil {
		toks, err := m.LM.Tokenize(g.prompt, true, false)
		if err != nil {
			return nil, 0, err
		}
		if len(toks) >= limit {
			if !g.truncate {
				return nil, 0, &engine.ContextError{Tokens: len(toks), Ctx: limit}
			}
			// Keep BOS and the end of the text: a completion continues what comes last.
			keep := limit / 2
			toks = append(toks[:1:1], toks[len(toks)-keep:]...)
		}
		return toks, 0, nil
	}
	msgs := g.messages
	dropped := 0
	for {
		toks, err := m.ChatPrompt(msgs)
		if err != nil {
			return nil, 0, badRequest("messages", "%v", err)
		}
		if len(toks) < limit {
			return toks, dropped, nil
		}
		first := 0
		if len(msgs) > 0 && msgs[0].Role == template.RoleSystem {
			first = 1
		}
		if !g.truncate || len(msgs)-first <= 1 {
			return nil, 0, &engine.ContextError{Tokens: len(toks), Ctx: limit}
		}
		msgs = append(msgs[:first:first], msgs[first+1:]...)
		dropped++
	}
}

// streamWriter writes one stream event at a time and flushes it, so a client sees each
// token as it comes. A write error means the client went away: the request's context ends
// and the engine drops the sequence at its next step.
type streamWriter struct {
	w       http.ResponseWriter
	flusher http.Flusher
	started bool
}

func newStreamWriter(w http.ResponseWriter, contentType string) *streamWriter {
	sw := &streamWriter{w: w}
	sw.flusher, _ = w.(http.Flusher)
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	return sw
}

func (sw *streamWriter) start() {
	if !sw.started {
		sw.started = true
		sw.w.WriteHeader(http.StatusOK)
	}
}

func (sw *streamWriter) write(b []byte) error {
	sw.start()
	if _, err := sw.w.Write(b); err != nil {
		return err
	}
	if sw.flusher != nil {
		sw.flusher.Flush()
	}
	return nil
}
