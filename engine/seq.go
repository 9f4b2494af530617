package engine

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/olm-dev/olm/runner"
)

// seq is one request on its way through the engine. The scheduler writes text into out;
// the caller's goroutine takes it from there (Generate), so neither waits for the other.
type seq struct {
	req      Request
	smpl     *runner.Sampler
	enqueued time.Time

	cancelled atomic.Bool
	notify    chan struct{} // cap 1: text arrived or the request ended

	mu        sync.Mutex
	out       []byte
	outTokens int // tokens drawn when text was last written to out
	done      bool

	// Written by the scheduler; read by the caller only after done.
	res Result
	err error

	// The scheduler's own.
	slot     *slot
	stream   *runner.TextStream
	admitted time.Time
	first    time.Time // first token drawn
	last     runner.Token
	prefill  int // prompt tokens still to evaluate, from prompt[len(prompt)-prefill:]
}

func newSeq(req Request, smpl *runner.Sampler, slotCtx int) *seq {
	s := &seq{req: req, smpl: smpl, notify: make(chan struct{}, 1), out: make([]byte, 0, 512)}
	n := slotCtx
	if req.MaxTokens > 0 {
		n = min(n, req.MaxTokens)
	}
	s.res.Generated = make([]runner.Token, 0, n+1) // the token loop appends without allocating
	s.res.PromptTokens = len(req.Prompt)
	s.stream = runner.NewTextStream(req.Stop, s.write)
	return s
}

// write is the text stream's sink: it runs on the scheduler's goroutine.
func (s *seq) write(b []byte) error {
	s.mu.Lock()
	s.out = append(s.out, b...)
	s.outTokens = s.res.GenTokens // the scheduler's own field, read on its goroutine
	s.mu.Unlock()
	s.signal()
	return nil
}

func (s *seq) signal() {
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

func (s *seq) cancel() { s.cancelled.Store(true) }

// take appends the text waiting to buf and reports the tokens drawn up to that text and
// whether the request has ended.
func (s *seq) take(buf []byte) ([]byte, int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	buf = append(buf, s.out...)
	s.out = s.out[:0]
	return buf, s.outTokens, s.done
}

// end records the outcome and wakes the caller; nothing touches s afterwards.
func (s *seq) end(reason runner.StopReason, err error) {
	if err == nil && reason != runner.StopCancelled {
		err = s.stream.Flush()
	}
	now := time.Now()
	s.res.Reason = reason
	s.res.FirstToken, s.res.Done = s.first, now
	if !s.first.IsZero() {
		s.res.PromptTime = s.first.Sub(s.admitted)
		s.res.GenTime = now.Sub(s.first)
	}
	if !s.admitted.IsZero() {
		s.res.Queued = s.admitted.Sub(s.enqueued)
	}
	s.err = err
	s.mu.Lock()
	s.done = true
	s.mu.Unlock()
	s.signal()
}
