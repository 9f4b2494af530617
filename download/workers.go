package download

import (
	"context"
	"sync"
)

// bufSize is one ring buffer: large enough that a fast link fills it per
// read (fewer writes, hand-overs and hash calls), small enough to spread.
const bufSize = 1 << 20

// ringSize is how many buffers a download uses: enough for each connection
// to read the next buffer while the sink hashes the last ones.
// writebackEvery is how much a connection writes before it has the kernel
// start writing it to disk: the disk then works while we download, and
// the final fsync (and each checkpoint's) finds almost nothing left.
const writebackEvery = 8 << 20

func ringSize(conns int) int { return 2*conns + 2 }

// download runs the chunk workers until every chunk is complete. The
// workers read and write; the sink counts and hashes; the checkpointer
// fsyncs and saves state. Memory is the ring, whatever the file size.
func (f *fetcher) download(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	f.rep.start(f.doneBytes())
	defer f.rep.stop()

	var pending []int
	f.mu.Lock()
	for i, c := range f.st.Chunks {
		if !c.complete() {
			pending = append(pending, i)
		}
	}
	f.mu.Unlock()
	work := make(chan int, len(pending))
	for _, i := range pending {
		work <- i
	}
	close(work)

	conns := min(f.conns, len(pending))
	if f.st.NoRange {
		conns = min(conns, 1)
	}
	r := newRing(ringSize(conns), int(min(bufSize, max(f.r.Size, 1))))
	ck := f.startCheckpointer()
	sinkDone := make(chan struct{})
	go func() {
		defer close(sinkDone)
		f.sink(ctx, cancel, r, ck)
	}()

	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			for i := range work {
				if err := f.budget.acquire(ctx); err != nil {
					cancel(err)
					return
				}
				err := f.runChunk(ctx, r, i)
				f.budget.release()
				if err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(r.full) // every block is sent: let the sink drain and stop
	<-sinkDone
	ck.stop()
	return context.Cause(ctx)
}
