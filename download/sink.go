package download

import (
	"context"
	"time"
)

// sink runs on one goroutine while the connections download. It alone
// advances chunk progress and the prefix hash, so a block handed over is
// counted and hashed straight from memory, and only bytes that arrived
// ahead of the prefix (other connections' chunks) are read back from disk,
// when no block is waiting. It offers snapshots to the checkpointer and
// returns once in is closed and drained. A read-back failure is reported
// through fail; the sink keeps draining so no connection blocks.
func (f *fetcher) sink(ctx context.Context, fail context.CancelCauseFunc, r *ring, ck *checkpointer) {
	tick := time.NewTicker(f.c.checkpointInterval())
	defer tick.Stop()
	front := f.frontier()
	saved := f.doneBytes() // what the state on disk (or nothing) covers
	done := saved
	save := func() {
		if done > saved && front < f.r.Size { // a complete file is fsynced by finish
			ck.offer(f.snapshot())
			saved = done
		}
	}
	hashing := f.hash != nil
	for {
		var b block
		var ok bool
		if hashing && f.hash.n < front && ctx.Err() == nil {
			select {
			case b, ok = <-r.full:
			case <-tick.C:
				save()
				continue
			default:
				if err := f.hash.step(front); err != nil {
					hashing = false
					fail(err)
				}
				continue
			}
		} else {
			select {
			case b, ok = <-r.full:
			case <-tick.C:
				save()
				continue
			}
		}
		if !ok {
			return
		}
		n := int64(len(b.data))
		if hashing {
			f.hash.feed(b.off, b.data)
		}
		r.put(b.data)
		front = f.advance(b.chunk, n)
		done += n
		if done-saved >= checkpointBytes {
			save()
		}
	}
}

// advance records n more bytes of chunk i on disk and returns the frontier.
func (f *fetcher) advance(i int, n int64) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.st.Chunks[i].Done += n
	return f.frontierLocked()
}
