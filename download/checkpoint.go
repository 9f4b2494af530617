package download

import (
	"fmt"
	"time"
)

// Chunk progress is persisted when this much arrived since the last save,
// or every checkpointEvery if anything arrived: a kill -9 then costs at most
// that much refetching, without an fsync per read.
const (
	checkpointBytes = 256 << 20
	checkpointEvery = 2 * time.Second
)

// snapshot copies the progress for saving.
func (f *fetcher) snapshot() *state {
	f.mu.Lock()
	snap := *f.st
	snap.Chunks = append([]chunk(nil), f.st.Chunks...)
	f.mu.Unlock()
	return &snap
}

// persist makes a snapshot durable. Every byte it counts was written
// before the snapshot was taken, so fsyncing the data first and only then
// writing the state means the state never claims bytes a crash could lose.
func (f *fetcher) persist(s *state) error {
	if err := f.file.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", f.partial(), err)
	}
	if err := s.save(f.statePath()); err != nil {
		return fmt.Errorf("save %s: %w", f.statePath(), err)
	}
	if f.c.onCheckpoint != nil {
		f.c.onCheckpoint(s)
	}
	return nil
}

// checkpoint persists the current progress; only while no sink runs.
func (f *fetcher) checkpoint() error { return f.persist(f.snapshot()) }

// checkpointer persists snapshots on its own goroutine so an fsync never
// holds up the download. Only the latest snapshot matters: one offered
// while another is being saved replaces any still waiting.
type checkpointer struct {
	f    *fetcher
	next chan *state
	done chan struct{}
}

func (f *fetcher) startCheckpointer() *checkpointer {
	c := &checkpointer{f: f, next: make(chan *state, 1), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for s := range c.next {
			c.f.persist(s) // best effort; run's final checkpoint reports errors
		}
	}()
	return c
}

// offer queues s; it never blocks. Only one goroutine (the sink) offers.
func (c *checkpointer) offer(s *state) {
	select {
	case <-c.next: // drop a stale one still waiting
	default:
	}
	c.next <- s
}

// stop drops a waiting snapshot (the caller saves or finishes next) and
// waits for a save in progress, so none lands after stop returns.
func (c *checkpointer) stop() {
	select {
	case <-c.next:
	default:
	}
	close(c.next)
	<-c.done
}

func (c *Client) checkpointInterval() time.Duration {
	if c.checkpointEvery > 0 {
		return c.checkpointEvery
	}
	return checkpointEvery
}
