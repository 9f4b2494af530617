package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/olm-dev/olm/chat/template"
	"github.com/olm-dev/olm/chat/tools"
	"github.com/olm-dev/olm/engine"
	"github.com/olm-dev/olm/grammar"
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

	// Tools: the definitions as template values (nil: none offered), as tools, and how
	// the answer may use them. toolMsgs: the messages hold calls or results, which only
	// a template that takes tools can render.
	toolDefs   []any
	toolList   []tools.Tool
	toolChoice tools.Choice
	parallel   bool
	toolMsgs   bool
	// olToolChoice: ollama's options.tool_choice, olm's extension ("auto", "none",
	// "required" or a function's name).
	olToolChoice string
}

// offersTools: the answer is parsed for calls.
func (g *genRequest) offersTools() bool {
	return len(g.toolDefs) > 0 && g.toolChoice.Mode != tools.ModeNone
}

// sink takes an answer as it comes, on the handler's goroutine. With tools, call gets
// each call's start and argument fragments (OpenAI deltas) and callDone each call once
// it is whole (ollama); text then carries only the prose around the calls.
type sink struct {
	start    func() // the model is loaded and the prompt fits: the answer begins
	text     func([]byte) error
	call     func(tools.Event) error
	callDone func(template.ToolCall) error
	// tokens, when set, hears the prompt's length and the tokens drawn so far: at the
	// start and before each piece of text.
	tokens func(prompt, completion int)
}

// genResult is what the APIs report back.
type genResult struct {
	engine.Result
	model     string
	loadDur   time.Duration
	totalDur  time.Duration
	truncated int                 // messages dropped to fit
	calls     []template.ToolCall // the tool calls the answer made
	// callErr: a call the model began but wrote wrong (*tools.MalformedError, mostly cut
	// off by max_tokens). A stream has sent what it had; a whole answer then gives the
	// model's text as it was (answer), so nothing is lost.
	callErr error
	answer  string
}

// whole is the content and calls of a non-streamed answer whose prose came as text.
func (r genResult) whole(text string) (string, []template.ToolCall) {
	if r.callErr != nil {
		return r.answer, nil
	}
	if len(r.calls) > 0 {
		text = strings.TrimSpace(text)
	}
	return text, r.calls
}

// finish is OpenAI's finish_reason: an answer that calls tools and ends by itself
// finishes with "tool_calls".
func (r genResult) finish() string {
	f := finishReason(r.Reason)
	if f == "stop" && len(r.calls) > 0 && r.callErr == nil {
		return "tool_calls"
	}
	return f
}

// finishReason maps olm's stop reasons to OpenAI's (ollama's done_reason uses the same two).
func finishReason(r runner.StopReason) string {
	switch r {
	case runner.StopMaxTokens, runner.StopContextFull:
		return "length"
	}
	return "stop"
}

// generate runs g on its model, handing the answer to out as it comes (on this
// goroutine), and reports errors that happen before the first token as errors: the
// handler then answers with an error status instead of a broken stream.
func (s *Server) generate(ctx context.Context, g genRequest, out sink) (genResult, error) {
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
	onText := out.text
	var calls *callStream
	if g.offersTools() {
		fam := l.m.ToolFamily()
		if err := constrainTools(&req.Sampling, fam, g); err != nil {
			return res, err
		}
		calls = &callStream{p: tools.NewParser(fam), out: out}
		onText = func(b []byte) error {
			calls.answer.Write(b)
			return calls.deliver(calls.p.Push(string(b)))
		}
	}
	if out.tokens != nil {
		n := len(prompt)
		out.tokens(n, 0)
		req.Progress = func(k int) { out.tokens(n, k) }
	}
	if out.start != nil {
		out.start()
	}
	r, err := l.m.Engine.Generate(ctx, req, onText)
	if calls != nil && err == nil {
		tail, perr := calls.p.Close()
		err = calls.deliver(tail)
		res.calls, res.callErr, res.answer = calls.p.Calls(), perr, calls.answer.String()
	}
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

// constrainTools (after promptFor, which refused a model without a tool format) adds the
// grammar tool_choice asks for: a forced call for "required" or a
// named function, and for "auto" a lazy one that lets the model write prose and holds a
// call it begins to the tools' schemas.
func constrainTools(p *runner.SamplingParams, fam tools.Family, g genRequest) error {
	c, ok, err := tools.Constrain(fam, g.toolList, g.toolChoice, g.parallel)
	if err != nil {
		return badRequest("tool_choice", "%v", err)
	}
	if !ok {
		return nil
	}
	if p.Grammar != "" { // response_format or format set one already
		return badRequest("response_format", "response_format and tools cannot both shape one answer: send one of them")
	}
	gr, err := grammar.Framed(c.Prefix, c.Schema, c.Suffix, c.Max)
	if err != nil {
		return badRequest("tools", "tools: a function's parameters: %v", err)
	}
	p.Grammar, p.GrammarRoot = gr.Text, gr.Root
	if c.Trigger != "" {
		p.GrammarTriggers = []string{c.Trigger}
	}
	return nil
}

// callStream feeds the engine's text through a tool-call parser and hands what it finds
// to the sink: prose to text, call fragments to call, each call that became whole to
// callDone.
type callStream struct {
	p      *tools.Parser
	out    sink
	sent   int             // calls given to callDone
	answer strings.Builder // the text as the model wrote it
}

func (c *callStream) deliver(evs []tools.Event) error {
	for _, e := range evs {
		var err error
		switch {
		case e.Kind == tools.Text:
			err = c.out.text([]byte(e.Text))
		case c.out.call != nil:
			err = c.out.call(e)
		}
		if err != nil {
			return err
		}
	}
	for calls := c.p.Calls(); c.sent < len(calls); c.sent++ {
		if c.out.callDone != nil {
			if err := c.out.callDone(calls[c.sent]); err != nil {
				return err
			}
		}
	}
	return nil
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
	render := m.ChatPrompt
	switch {
	case g.offersTools():
		render = func(msgs []template.Message) ([]runner.Token, error) { return m.ToolPrompt(msgs, g.toolDefs) }
	case g.toolMsgs && m.ToolFamily() == tools.None:
		return nil, 0, badRequest("messages", "the messages hold tool calls or results, but %s: use a model whose template takes tools (olm show says)", tools.ErrNoTools)
	}
	msgs := g.messages
	dropped := 0
	for {
		toks, err := render(msgs)
		if errors.Is(err, tools.ErrNoTools) {
			return nil, 0, err
		}
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
