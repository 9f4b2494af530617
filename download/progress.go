package download

import (
	"sync"
	"sync/atomic"
	"time"
)

// Phase is the stage of a Fetch.
type Phase string

const (
	PhaseDownloading Phase = "downloading"
	PhaseVerifying   Phase = "verifying"
	PhaseDone        Phase = "done"
	// PhaseWaiting: a request failed and the download waits before
	// retrying; Message says how long and why (a Retry-After of minutes
	// must not look like a hang).
	PhaseWaiting Phase = "waiting"
)

// Progress is one progress event of a Fetch.
type Progress struct {
	File  string
	Phase Phase
	Done  int64 // bytes on disk, including those from earlier attempts
	Total int64
	// Rate is the recent download speed in bytes/s (0 while unknown); ETA
	// is the estimated time left (0 while unknown).
	Rate float64
	ETA  time.Duration
	// Message explains a PhaseWaiting event.
	Message string
}

// progressEvery is how often a downloading event is sent.
const progressEvery = 250 * time.Millisecond

// rateWindow is how far back the rate looks: long enough to be steady,
// short enough to follow a change of speed.
const rateWindow = 5 * time.Second

// reporter turns byte counts into serialised Progress events.
type reporter struct {
	clock Clock
	file  string
	total int64
	cb    func(Progress)

	done     atomic.Int64
	received atomic.Int64 // over the network, by this Fetch

	mu      sync.Mutex // serialises cb and guards samples
	samples []sample
	// waitEnd is when the last announced wait ends: connections that hit
	// the same 429 together announce it once.
	waitEnd time.Time
	quit    chan struct{}
	wg      sync.WaitGroup
}

type sample struct {
	t    time.Time
	done int64
}

func newReporter(c Clock, file string, total int64, cb func(Progress)) *reporter {
	return &reporter{clock: c, file: file, total: total, cb: cb}
}

func (r *reporter) add(n int64) {
	r.done.Add(n)
	r.received.Add(n)
}

// start begins periodic events from done bytes (what earlier attempts left).
func (r *reporter) start(done int64) {
	r.done.Store(done)
	if r.cb == nil {
		return
	}
	r.mu.Lock()
	r.samples = r.samples[:0]
	r.mu.Unlock()
	r.tick()
	r.quit = make(chan struct{})
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				r.tick()
			case <-r.quit:
				return
			}
		}
	}()
}

func (r *reporter) stop() {
	if r.quit == nil {
		return
	}
	close(r.quit)
	r.wg.Wait()
	r.quit = nil
	r.tick()
}

func (r *reporter) tick() {
	r.mu.Lock()
	defer r.mu.Unlock()
	now, done := r.clock.Now(), r.done.Load()
	r.samples = append(r.samples, sample{now, done})
	for len(r.samples) > 2 && now.Sub(r.samples[0].t) > rateWindow {
		r.samples = r.samples[1:]
	}
	p := Progress{File: r.file, Phase: PhaseDownloading, Done: done, Total: r.total}
	first := r.samples[0]
	if dt := now.Sub(first.t).Seconds(); dt > 0 && done > first.done {
		p.Rate = float64(done-first.done) / dt
		p.ETA = time.Duration(float64(r.total-done) / p.Rate * float64(time.Second))
	}
	r.cb(p)
}

// emit sends a phase change.
func (r *reporter) emit(ph Phase, done int64) {
	if r.cb == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cb(Progress{File: r.file, Phase: ph, Done: done, Total: r.total})
}

// waiting announces a wait of d before a retry, unless one announced
// already covers it.
func (r *reporter) waiting(d time.Duration, msg string) {
	if r.cb == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	end := r.clock.Now().Add(d)
	if end.Before(r.waitEnd.Add(time.Second)) {
		return
	}
	r.waitEnd = end
	r.cb(Progress{File: r.file, Phase: PhaseWaiting, Done: r.done.Load(), Total: r.total, Message: msg})
}
