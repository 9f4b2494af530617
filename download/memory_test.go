package download

import (
	"context"
	"runtime"
	"testing"
)

// Fetch streams through a fixed ring of buffers: what it allocates does
// not grow with the file (the "memory bounded").
func TestFetchMemoryIsBounded(t *testing.T) {
	e := newEnv(t)
	data := randomBytes(48 << 20)
	r := e.resolve("m.gguf", data)
	dst := e.dst("m.gguf")
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.TotalAlloc
	if err := e.c.Fetch(context.Background(), r, dst, FetchOptions{}); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&ms)
	// The ring is ringSize(conns) buffers; the rest is HTTP and bookkeeping.
	limit := uint64(ringSize(DefaultConnections)*bufSize + 4<<20)
	got := ms.TotalAlloc - before
	if got > limit {
		t.Errorf("fetching %d MiB allocated %d bytes, want at most %d", len(data)>>20, got, limit)
	}
	assertFile(t, dst, data)
}
