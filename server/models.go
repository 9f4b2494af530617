package server

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/olm-dev/olm/download"
	"github.com/olm-dev/olm/engine"
	"github.com/olm-dev/olm/models"
	"github.com/olm-dev/olm/runner"
)

// loaded is one resident model, or one being loaded (ready not yet closed).
type loaded struct {
	name    string
	path    string
	m       *engine.Model
	size    int64 // memory estimate: weights, KV cache of every slot, compute buffer
	ctx     int   // tokens per slot
	refs    int   // requests using it
	used    time.Time
	expires time.Time // when an idle model is unloaded (zero: never)
	timer   *time.Timer
	loadDur time.Duration
	ready   chan struct{}
	err     error
}

// manager loads models on their first request, keeps them for keep_alive after their last,
// and unloads the least recently used idle ones when a new one needs the memory.
type manager struct {
	s      *Server
	mu     sync.Mutex
	byPath map[string]*loaded
}

func newManager(s *Server) *manager { return &manager{s: s, byPath: map[string]*loaded{}} }

// acquire returns the named model loaded, loading it first if needed; release must follow.
// keepAlive, when not nil, replaces the default for when the model goes idle.
func (mg *manager) acquire(ctx context.Context, name string, keepAlive *time.Duration) (*loaded, error) {
	res, err := mg.s.cfg.Library.Resolve(ctx, name, mg.s.cfg.Pull)
	if err != nil {
		return nil, err
	}
	for {
		mg.mu.Lock()
		l, ok := mg.byPath[res.Path]
		if !ok {
			break // still locked: this request loads it
		}
		l.refs++
		mg.mu.Unlock()
		select {
		case <-l.ready:
		case <-ctx.Done():
			mg.release(l, nil)
			return nil, ctx.Err()
		}
		if l.err != nil {
			mg.release(l, nil)
			continue // the load failed and was removed; try once more ourselves
		}
		return l, nil
	}
	defer mg.mu.Unlock()
	info, err := models.Inspect(res.Path)
	if err != nil {
		return nil, err
	}
	slotCtx := mg.s.cfg.Ctx
	if slotCtx <= 0 {
		slotCtx = engine.DefaultContext(info.ContextLength)
	}
	size := info.Memory(slotCtx * mg.s.cfg.Slots).Total
	if err := mg.makeRoom(size, name); err != nil {
		return nil, err
	}
	l := &loaded{name: res.Name, path: res.Path, size: size, ctx: slotCtx, refs: 1, ready: make(chan struct{})}
	mg.byPath[res.Path] = l
	mg.mu.Unlock()
	start := time.Now()
	m, err := engine.Open(context.WithoutCancel(ctx), engine.OpenOptions{
		Name: res.Name, Path: res.Path, CatalogTemplate: res.Template,
		Model: runner.ModelOptions{GPULayers: mg.s.cfg.GPULayers, FitContext: slotCtx * mg.s.cfg.Slots},
		Context: func(*runner.Model) runner.ContextOptions {
			return runner.ContextOptions{Ctx: slotCtx, Batch: mg.s.cfg.Batch, Threads: mg.s.cfg.Threads}
		},
		Slots: mg.s.cfg.Slots, MaxQueue: mg.s.cfg.MaxQueue,
	})
	mg.mu.Lock()
	l.m, l.err, l.loadDur = m, err, time.Since(start)
	close(l.ready)
	if err != nil {
		delete(mg.byPath, res.Path)
		return nil, fmt.Errorf("load %s: %w", name, err)
	}
	mg.s.metrics.modelsLoaded.Set(float64(len(mg.byPath)))
	_ = keepAlive
	return l, nil
}

// makeRoom unloads idle models, least recently used first, until size fits the budget.
// Called with mu held.
func (mg *manager) makeRoom(size int64, name string) error {
	budget := mg.s.cfg.Memory
	if size > budget {
		return fmt.Errorf("%w: %s needs about %s with %d slots, more than the %s olm serve may use: lower --parallel or --ctx",
			errNoMemory, name, download.HumanBytes(size), mg.s.cfg.Slots, download.HumanBytes(budget))
	}
	for {
		var used int64
		var idle []*loaded
		for _, l := range mg.byPath {
			used += l.size
			if l.refs == 0 && l.m != nil {
				idle = append(idle, l)
			}
		}
		if used+size <= budget {
			return nil
		}
		if len(idle) == 0 {
			return fmt.Errorf("%w: %s needs about %s and the models in use hold %s of %s: wait for them or unload one (keep_alive 0)",
				errNoMemory, name, download.HumanBytes(size), download.HumanBytes(used), download.HumanBytes(budget))
		}
		slices.SortFunc(idle, func(a, b *loaded) int { return a.used.Compare(b.used) })
		mg.unloadLocked(idle[0])
	}
}

// release ends a request's use of l; keepAlive (nil: the server's default) says how long
// it stays loaded once idle, 0 unloads it now, a negative one keeps it forever.
func (mg *manager) release(l *loaded, keepAlive *time.Duration) {
	mg.mu.Lock()
	defer mg.mu.Unlock()
	l.refs--
	if l.m == nil || l.refs > 0 || mg.byPath[l.path] != l {
		return
	}
	ka := mg.s.cfg.KeepAlive
	if keepAlive != nil {
		ka = *keepAlive
	}
	l.used = mg.s.cfg.Now()
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
	switch {
	case ka == 0:
		mg.unloadLocked(l)
	case ka < 0:
		l.expires = time.Time{}
	default:
		l.expires = l.used.Add(ka)
		l.timer = time.AfterFunc(ka, func() { mg.expire(l) })
	}
}

func (mg *manager) expire(l *loaded) {
	mg.mu.Lock()
	defer mg.mu.Unlock()
	if l.refs == 0 && mg.byPath[l.path] == l && !l.expires.IsZero() && !mg.s.cfg.Now().Before(l.expires) {
		mg.unloadLocked(l)
	}
}

// unloadLocked frees an idle model. Called with mu held.
func (mg *manager) unloadLocked(l *loaded) {
	delete(mg.byPath, l.path)
	if l.timer != nil {
		l.timer.Stop()
	}
	l.m.Close()
	mg.s.metrics.modelsLoaded.Set(float64(len(mg.byPath)))
}

// unloadNamed unloads a model that no request uses (keep_alive 0 with no prompt).
func (mg *manager) unloadNamed(ctx context.Context, name string) (bool, error) {
	res, err := mg.s.cfg.Library.Resolve(ctx, name, false)
	if err != nil {
		return false, err
	}
	mg.mu.Lock()
	defer mg.mu.Unlock()
	l, ok := mg.byPath[res.Path]
	if !ok || l.m == nil || l.refs > 0 {
		return false, nil
	}
	mg.unloadLocked(l)
	return true, nil
}

// snapshot lists the resident models, most recently used first.
func (mg *manager) snapshot() []loaded {
	mg.mu.Lock()
	defer mg.mu.Unlock()
	var out []loaded
	for _, l := range mg.byPath {
		if l.m != nil {
			out = append(out, loaded{name: l.name, path: l.path, m: l.m, size: l.size, ctx: l.ctx, refs: l.refs, used: l.used, expires: l.expires})
		}
	}
	slices.SortFunc(out, func(a, b loaded) int { return b.used.Compare(a.used) })
	return out
}

func (mg *manager) closeAll() {
	mg.mu.Lock()
	defer mg.mu.Unlock()
	for _, l := range mg.byPath {
		if l.m != nil {
			if l.timer != nil {
				l.timer.Stop()
			}
			l.m.Close()
		}
	}
	mg.byPath = map[string]*loaded{}
}
