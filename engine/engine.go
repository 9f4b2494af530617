// Package engine runs one loaded model for many conversations at once: one llama.cpp
// context with N sequence slots, one scheduler goroutine that decodes every running
// sequence together (continuous batching), and the conversation layer (Session) that the
// terminal, olm run and the server share.
//
// The shape follows ollama's runner and llama-server's slots: requests are plain data
// (seq), one goroutine owns the llama.cpp context, and text flows back to each caller's
// own goroutine, so a slow reader never holds up the other streams.
package engine

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/olm-dev/olm/runner"
)

// Options size an engine.
type Options struct {
	Slots    int // sequences decoded together (default 1)
	SlotCtx  int // tokens each slot holds: prompt plus answer (required)
	Batch    int // most tokens one decode takes; prompts are prefilled in chunks of it (default 512)
	MaxQueue int // requests that may wait for a slot (default 64; -1: none wait)
	// Context carries the threads, flash attention and KV types; its Ctx, Seqs and Batch
	// are set from the fields above.
	Context runner.ContextOptions
}

// DefaultMaxQueue is the admission queue's bound when Options leave it 0.
const DefaultMaxQueue = 64

// Request is one generation. Sampling.Grammar (GBNF, e.g. from the grammar package)
// constrains the answer; the grammar runs inside the same batched sampling call.
type Request struct {
	Prompt    []runner.Token
	Sampling  runner.SamplingParams
	MaxTokens int      // <= 0: until end of generation or a full slot
	Stop      []string // generation ends at the first; it is not emitted
	IgnoreEOG bool     // keep going past end-of-generation tokens (benchmarks)
	// Progress, when set, is called on Generate's goroutine before each emit with the
	// tokens drawn so far: one emit may carry the text of several tokens (Generate hands
	// over all that waits), so counting emits does not count tokens.
	Progress func(tokens int)
}

// Result describes a finished request.
type Result struct {
	runner.Result
	Queued    time.Duration  // waiting for a slot
	Generated []runner.Token // tokens sampled, in order (the last one was never evaluated)
	CtxUsed   int            // tokens in the slot's cache afterwards
	CtxSize   int            // tokens one slot holds
	// FirstToken and Done are when the first token was drawn and the request ended.
	FirstToken, Done time.Time
}

// Stats is a snapshot of the engine for metrics and tests.
type Stats struct {
	Slots, Busy, Queued int
	CachedTokens        int // tokens held in all slots' caches
	CtxSize             int // tokens of the whole KV cache
	PromptTokens        int64
	PromptEvaluated     int64
	GenTokens           int64
}

// Engine owns one context over a model it does not own.
type Engine struct {
	model *runner.Model
	lctx  *runner.Context
	opts  Options

	submit  chan *seq
	poke    chan struct{} // a cancellation or Close wants the scheduler's attention
	quit    chan struct{}
	done    chan struct{}
	once    sync.Once
	started bool

	queued atomic.Int64 // requests admitted to the queue and not yet in a slot
	idle   atomic.Int64 // slots running no request
	stats  struct {
		sync.Mutex
		Stats
	}

	s *scheduler
}

// New makes the context and starts the scheduler.
func New(m *runner.Model, o Options) (*Engine, error) {
	e, err := newEngine(m, o)
	if err != nil {
		return nil, err
	}
	e.started = true
	go e.run()
	return e, nil
}

func newEngine(m *runner.Model, o Options) (*Engine, error) {
	if o.Slots == 0 {
		o.Slots = 1
	}
	if o.Slots < 1 {
		return nil, fmt.Errorf("engine: %d slots: at least one is needed", o.Slots)
	}
	if o.SlotCtx <= 0 {
		return nil, fmt.Errorf("engine: a slot must hold at least one token (got %d)", o.SlotCtx)
	}
	if o.Batch <= 0 {
		o.Batch = 512
	}
	switch {
	case o.MaxQueue == 0:
		o.MaxQueue = DefaultMaxQueue
	case o.MaxQueue < 0:
		o.MaxQueue = 0
	}
	co := o.Context
	co.Ctx, co.Seqs = o.SlotCtx*o.Slots, o.Slots
	co.Batch = o.Batch
	if co.UBatch == 0 || co.UBatch > o.Batch {
		co.UBatch = min(o.Batch, 512)
	}
	lctx, err := m.NewContext(co)
	if err != nil {
		return nil, err
	}
	o.Batch = min(o.Batch, lctx.Size())
	e := &Engine{
		model: m, lctx: lctx, opts: o,
		submit: make(chan *seq, o.MaxQueue+o.Slots),
		poke:   make(chan struct{}, 1),
		quit:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	e.s = newScheduler(e)
	e.stats.Slots, e.stats.CtxSize = o.Slots, lctx.Size()
	return e, nil
}

// Model is the model the engine runs.
func (e *Engine) Model() *runner.Model { return e.model }

// Slots is the number of sequences decoded together.
func (e *Engine) Slots() int { return e.opts.Slots }

// SlotCtx is the number of tokens one conversation may hold.
func (e *Engine) SlotCtx() int { return e.opts.SlotCtx }

// Stats is a snapshot of the engine's state and counters.
func (e *Engine) Stats() Stats {
	e.stats.Lock()
	defer e.stats.Unlock()
	st := e.stats.Stats
	st.Queued = int(e.queued.Load())
	return st
}

// Close cancels what runs, stops the scheduler and frees the context (not the model).
func (e *Engine) Close() {
	e.once.Do(func() {
		close(e.quit)
		if e.started {
			<-e.done
		} else {
			e.s.shutdown()
		}
		e.s.close()
		e.lctx.Close()
	})
}

func (e *Engine) wake() {
	select {
	case e.poke <- struct{}{}:
	default:
	}
}

// Generate runs req and streams its text through emit, on the caller's goroutine. emit's
// slice is valid only during the call; an error from emit cancels the request. When ctx
// is cancelled the request leaves the batch at the next step, its slot and cache cells
// are free before Generate returns, and the Result has Reason StopCancelled with a nil
// error.
func (e *Engine) Generate(ctx context.Context, req Request, emit func([]byte) error) (Result, error) {
	if len(req.Prompt) == 0 {
		return Result{}, ErrEmptyPrompt
	}
	if len(req.Prompt) > e.opts.SlotCtx {
		return Result{}, &ContextError{Tokens: len(req.Prompt), Ctx: e.opts.SlotCtx}
	}
	smpl, err := runner.NewSamplerFor(e.model, req.Sampling)
	if err != nil {
		return Result{}, err
	}
	defer smpl.Close()
	smpl.Prime(req.Prompt)
	s := newSeq(req, smpl, e.opts.SlotCtx)
	if err := e.enqueue(s); err != nil {
		return Result{}, err
	}
	var buf []byte
	var emitErr error
	cancelled := ctx.Done()
	for {
		select {
		case <-s.notify:
		case <-cancelled:
			s.cancel()
			e.wake()
			cancelled = nil
		case <-e.done: // the scheduler has exited (Close): whatever it had is ended
			if _, _, done := s.take(nil); !done {
				return s.res, ErrClosed
			}
		}
		var done bool
		var tokens int
		buf, tokens, done = s.take(buf[:0])
		if len(buf) > 0 && emitErr == nil {
			if req.Progress != nil {
				req.Progress(tokens)
			}
			if emitErr = emit(buf); emitErr != nil {
				s.cancel()
				e.wake()
			}
		}
		if done {
			break
		}
	}
	if emitErr != nil {
		return s.res, emitErr
	}
	return s.res, s.err
}

// enqueue admits s to the queue, or refuses it when the queue is at its bound.
func (e *Engine) enqueue(s *seq) error {
	select {
	case <-e.quit:
		return ErrClosed
	default:
	}
	if n := e.queued.Add(1); n > int64(e.opts.MaxQueue+int(e.idle.Load())) {
		e.queued.Add(-1)
		return ErrQueueFull
	}
	s.enqueued = time.Now()
	e.submit <- s // room: the channel holds MaxQueue+Slots and queued bounds what is in it
	return nil
}
