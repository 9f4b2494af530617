package download

import (
	"context"
	"sync/atomic"
)

// block is a buffer a connection filled and already wrote at off; it
// travels to the sink, which counts and hashes it, then returns it.
type block struct {
	chunk int
	off   int64
	data  []byte
}

// ring is the fixed set of buffers between the connections and the sink.
// Its size bounds a Fetch's memory whatever the file size; buffers are
// made on first use so small files stay small.
type ring struct {
	free chan []byte
	full chan block // capacity n: a send never blocks
	n    int32
	size int
	made atomic.Int32
}

func newRing(n, size int) *ring {
	return &ring{free: make(chan []byte, n), full: make(chan block, n), n: int32(n), size: size}
}

// get returns a free buffer, waiting while all are in flight.
func (r *ring) get(ctx context.Context) ([]byte, error) {
	select {
	case b := <-r.free:
		return b, nil
	default:
	}
	for m := r.made.Load(); m < r.n; m = r.made.Load() {
		if r.made.CompareAndSwap(m, m+1) {
			return make([]byte, r.size), nil
		}
	}
	select {
	case b := <-r.free:
		return b, nil
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

func (r *ring) put(b []byte) { r.free <- b[:cap(b)] }
