package engine

import (
	"slices"
	"time"

	"github.com/olm-dev/olm/runner"
)

// slot is one sequence of the context: the tokens its cache cells hold, at positions
// 0..len(cache)-1, and the request using it (nil when idle). An idle slot keeps its cache
// so that the next request sharing its prefix evaluates only what is new.
type slot struct {
	id    int
	cache []runner.Token
	seq   *seq
	used  uint64 // the scheduler's tick when it last took a request: least recently used goes first
	chunk int    // prompt tokens this step's batch carries for it
	inGen bool   // this step's batch carries its last sampled token
}

// scheduler is the state the engine's goroutine owns: nothing else touches the context.
type scheduler struct {
	e        *Engine
	lctx     *runner.Context
	model    *runner.Model
	slots    []*slot
	pending  []*seq  // waiting for a slot, oldest first
	fill     []*slot // slots still prefilling, in the order they were given a request
	batch    *runner.Batch
	draws    *runner.Draws
	drawSlot []*slot // the slot of each draw this step
	canShift bool
	tick     uint64
}

// minShiftReuse is the shortest tail of a cache worth keeping by a position shift when the
// middle of a conversation was dropped; shorter ones are evaluated again.
const minShiftReuse = 16

func newScheduler(e *Engine) *scheduler {
	s := &scheduler{e: e, lctx: e.lctx, model: e.model,
		batch:    runner.NewBatch(e.opts.Batch),
		draws:    runner.NewDraws(e.opts.Slots),
		drawSlot: make([]*slot, e.opts.Slots),
		pending:  make([]*seq, 0, e.opts.MaxQueue+e.opts.Slots),
		fill:     make([]*slot, 0, e.opts.Slots),
		canShift: e.lctx.CanShift(),
	}
	for i := range e.opts.Slots {
		s.slots = append(s.slots, &slot{id: i, cache: make([]runner.Token, 0, e.opts.SlotCtx)})
	}
	e.idle.Store(int64(e.opts.Slots))
	return s
}

func (s *scheduler) close() {
	s.batch.Close()
	s.draws.Close()
}

// run is the engine's goroutine: it sleeps while there is nothing to do and steps otherwise.
func (e *Engine) run() {
	defer close(e.done)
	s := e.s
	for {
		if s.quiet() {
			select {
			case q := <-e.submit:
				s.pending = append(s.pending, q)
			case <-e.poke:
			case <-e.quit:
				s.shutdown()
				return
			}
		}
		select {
		case <-e.quit:
			s.shutdown()
			return
		default:
		}
		s.step()
	}
}

// quiet reports that no request runs or waits.
func (s *scheduler) quiet() bool {
	if len(s.pending) > 0 {
		return false
	}
	for _, sl := range s.slots {
		if sl.seq != nil {
			return false
		}
	}
	return true
}

// step is one iteration: take new requests, drop cancelled ones, give waiting ones free
// slots, then decode one token of every generating sequence plus prompt chunks of new
// ones (within the batch), and sample each sequence that has logits.
func (s *scheduler) step() {
	defer s.publish()
	s.drain()
	s.reap()
	s.admit()
	s.tick++

	s.batch.Clear()
	nd := 0
	// Generating sequences first: prefill never starves them (llama-server's order).
	for _, sl := range s.slots {
		sl.chunk, sl.inGen = 0, false
		if q := sl.seq; q != nil && q.prefill == 0 {
			i := s.batch.Add(q.last, len(sl.cache), sl.id, true)
			s.draws.Set(nd, i, q.smpl)
			s.drawSlot[nd] = sl
			nd++
			sl.inGen = true
		}
	}
	budget := s.batch.Cap() - s.batch.Len()
	for _, sl := range s.fill {
		if budget == 0 {
			break
		}
		q := sl.seq
		p := q.req.Prompt
		from := len(p) - q.prefill
		n := min(q.prefill, budget)
		for j := range n {
			last := from+j == len(p)-1
			i := s.batch.Add(p[from+j], len(sl.cache)+j, sl.id, last)
			if last {
				s.draws.Set(nd, i, q.smpl)
				s.drawSlot[nd] = sl
				nd++
			}
		}
		sl.chunk = n
		budget -= n
	}
	if s.batch.Len() == 0 {
		return
	}
	if err := s.lctx.Step(s.batch, s.draws, nd); err != nil {
		for _, sl := range s.slots {
			if sl.seq != nil && (sl.inGen || sl.chunk > 0) {
				s.finish(sl, "", err)
			}
		}
		return
	}
	for _, sl := range s.slots {
		q := sl.seq
		switch {
		case q == nil:
		case sl.inGen:
			sl.cache = append(sl.cache, q.last)
		case sl.chunk > 0:
			p := q.req.Prompt
			from := len(p) - q.prefill
			sl.cache = append(sl.cache, p[from:from+sl.chunk]...)
			q.prefill -= sl.chunk
			if q.prefill == 0 {
				s.fill = slices.DeleteFunc(s.fill, func(x *slot) bool { return x == sl })
			}
		}
	}
	for k := range nd {
		s.accept(s.drawSlot[k], s.draws.Token(k), s.draws.Piece(k))
	}
}

// accept handles the token a sequence drew: stream it, or end the request.
func (s *scheduler) accept(sl *slot, tok runner.Token, piece []byte) {
	q := sl.seq
	if q.first.IsZero() {
		q.first = time.Now()
	}
	if !q.req.IgnoreEOG && s.model.IsEOG(tok) {
		s.finish(sl, runner.StopEOG, nil)
		return
	}
	q.res.GenTokens++
	q.res.Generated = append(q.res.Generated, tok)
	if len(piece) == 0 && s.model.StopsOnControl(tok, q.req.Stop) {
		s.finish(sl, runner.StopString, nil)
		return
	}
	stopped, err := q.stream.Push(piece)
	switch {
	case err != nil:
		s.finish(sl, "", err)
	case stopped:
		s.finish(sl, runner.StopString, nil)
	case q.req.MaxTokens > 0 && q.res.GenTokens >= q.req.MaxTokens:
		s.finish(sl, runner.StopMaxTokens, nil)
	case len(sl.cache) >= s.e.opts.SlotCtx:
		s.finish(sl, runner.StopContextFull, nil)
	default:
		q.last = tok
	}
}

// finish ends the slot's request. A cancelled request's cells are freed at once; a
// finished one's stay for the next request that shares its prefix.
func (s *scheduler) finish(sl *slot, reason runner.StopReason, err error) {
	q := sl.seq
	if reason == runner.StopCancelled || err != nil {
		s.lctx.SeqRemove(sl.id, 0, -1)
		sl.cache = sl.cache[:0]
	}
	q.res.CtxUsed, q.res.CtxSize = len(sl.cache), s.e.opts.SlotCtx
	if len(s.slots) == 1 { // llama.cpp's counters are per context: exact for one slot only
		q.res.Perf = s.lctx.Perf()
	}
	s.e.stats.Lock()
	s.e.stats.PromptTokens += int64(q.res.PromptTokens)
	s.e.stats.PromptEvaluated += int64(q.res.PromptEvaluated - q.prefill)
	s.e.stats.GenTokens += int64(q.res.GenTokens)
	s.e.stats.Unlock()
	sl.seq = nil
	s.fill = slices.DeleteFunc(s.fill, func(x *slot) bool { return x == sl })
	s.e.idle.Add(1)
	s.publish() // before the caller wakes: what it reads next is up to date
	q.end(reason, err)
}

// drain moves newly submitted requests to the pending list without blocking.
func (s *scheduler) drain() {
	for {
		select {
		case q := <-s.e.submit:
			s.pending = append(s.pending, q)
		default:
			return
		}
	}
}

// reap ends cancelled requests, running or waiting.
func (s *scheduler) reap() {
	for _, sl := range s.slots {
		if sl.seq != nil && sl.seq.cancelled.Load() {
			s.finish(sl, runner.StopCancelled, nil)
		}
	}
	s.pending = slices.DeleteFunc(s.pending, func(q *seq) bool {
		if !q.cancelled.Load() {
			return false
		}
		s.e.queued.Add(-1)
		q.end(runner.StopCancelled, nil)
		return true
	})
}

// admit gives waiting requests free slots, oldest request first.
func (s *scheduler) admit() {
	for len(s.pending) > 0 {
		q := s.pending[0]
		sl := s.choose(q.req.Prompt)
		if sl == nil {
			return
		}
		s.pending = s.pending[1:]
		s.e.queued.Add(-1)
		s.e.idle.Add(-1)
		s.place(sl, q)
	}
	if len(s.pending) == 0 {
		s.pending = s.pending[:0:cap(s.pending)]
	}
}

// minPrefixReuse is the shortest shared prefix that makes a slot worth choosing: below it
// (a BOS token, a common first word) a request takes the slot whose cache it wastes least.
const minPrefixReuse = 8

// choose picks the idle slot whose cache serves p best; among equals the one whose cache it
// throws away least, then the least recently used. nil when every slot is busy.
func (s *scheduler) choose(p []runner.Token) *slot {
	var best *slot
	bestReuse, bestWaste := -1, 0
	for _, sl := range s.slots {
		if sl.seq != nil {
			continue
		}
		r := s.reusable(sl.cache, p)
		if r < minPrefixReuse {
			r = 0
		}
		waste := len(sl.cache) - r
		if best == nil || r > bestReuse || (r == bestReuse && (waste < bestWaste || waste == bestWaste && sl.used < best.used)) {
			best, bestReuse, bestWaste = sl, r, waste
		}
	}
	return best
}

// reusable is how many of p's tokens a cache can keep: the common prefix, plus a tail
// that a position shift can bring next to it.
func (s *scheduler) reusable(cache, p []runner.Token) int {
	a := runner.CommonPrefix(cache, p)
	if _, m := s.shiftMatch(cache, p, a); m > 0 {
		return a + m
	}
	return a
}

// shiftMatch finds where the cache continues p after their common prefix a (turns dropped
// from the middle of a conversation): the b for which cache[b:] and p[a:] agree longest,
// at least minShiftReuse tokens. It returns b and the agreeing length m, or m = 0. The
// agreement need not run to the cache's end: the last answer is cached as the tokens the
// model drew, and the next prompt has it as text tokenized again, which can differ; what
// agrees up to there is kept.
func (s *scheduler) shiftMatch(cache, p []runner.Token, a int) (b, m int) {
	if !s.canShift || a >= len(cache) || a >= len(p) {
		return 0, 0
	}
	for i := a + 1; len(cache)-i >= minShiftReuse && len(cache)-i > m; i++ {
		if cache[i] != p[a] {
			continue
		}
		if k := runner.CommonPrefix(cache[i:], p[a:]); k >= minShiftReuse && k > m {
			b, m = i, k
		}
	}
	return b, m
}

// place starts q in sl: the slot keeps what it can reuse of its cache (or copies a longer
// prefix from another slot's), and the rest of the prompt waits to be prefilled.
func (s *scheduler) place(sl *slot, q *seq) {
	p := q.req.Prompt
	keep := runner.CommonPrefix(sl.cache, p)
	if b, m := s.shiftMatch(sl.cache, p, keep); m > 0 {
		s.lctx.SeqRemove(sl.id, b+m, -1) // where the tail stops agreeing with p
		s.lctx.SeqRemove(sl.id, keep, b)
		s.lctx.SeqShift(sl.id, b, -1, keep-b)
		sl.cache = append(sl.cache[:keep], sl.cache[b:b+m]...)
		keep += m
	}
	// A longer prefix in another slot (a shared system prompt, say) is copied, not recomputed.
	for _, o := range s.slots {
		if o == sl {
			continue
		}
		if c := runner.CommonPrefix(o.cache, p); c > keep {
			s.lctx.SeqRemove(sl.id, 0, -1)
			s.lctx.SeqCopy(o.id, sl.id, 0, c)
			sl.cache = append(sl.cache[:0], o.cache[:c]...)
			keep = c
		}
	}
	// The last prompt token is always evaluated: the first sample needs its logits.
	keep = min(keep, len(p)-1)
	if keep < len(sl.cache) {
		s.lctx.SeqRemove(sl.id, keep, -1)
		sl.cache = sl.cache[:keep]
	}
	q.prefill = len(p) - keep
	q.res.PromptEvaluated = q.prefill
	if len(s.slots) == 1 {
		s.lctx.ResetPerf()
	}
	q.admitted = time.Now()
	q.slot = sl
	sl.seq = q
	sl.used = s.tick
	s.fill = append(s.fill, sl)
}

// publish refreshes the snapshot Stats reads.
func (s *scheduler) publish() {
	busy, cached := 0, 0
	for _, sl := range s.slots {
		cached += len(sl.cache)
		if sl.seq != nil {
			busy++
		}
	}
	s.e.stats.Lock()
	s.e.stats.Busy, s.e.stats.CachedTokens = busy, cached
	s.e.stats.Unlock()
}

// shutdown ends every request with ErrClosed.
func (s *scheduler) shutdown() {
	s.drain()
	for _, sl := range s.slots {
		if sl.seq != nil {
			s.finish(sl, "", ErrClosed)
		}
	}
	for _, q := range s.pending {
		s.e.queued.Add(-1)
		q.end("", ErrClosed)
	}
	s.pending = nil
	s.publish()
}
