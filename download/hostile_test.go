package download

import (
	"context"
	"errors"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/olm-dev/olm/download/hftest"
)

// layout must stay small and exact for any size a hub can claim: a size
// near MaxInt64 once overflowed the chunk arithmetic into 2^39 chunks.
func TestLayoutIsBoundedForAnySize(t *testing.T) {
	sizes := []int64{math.MaxInt64, math.MaxInt64 - 1, 1 << 62, 1<<40 + 3, 1 << 30, 5<<20 + 1, 1, 0, -1, math.MinInt64}
	for _, size := range sizes {
		for _, conns := range []int{0, 1, 8, 64, math.MaxInt32} {
			for _, cs := range []int64{0, 1, 256 << 10, math.MaxInt64} {
				chunks := layout(size, conns, cs)
				if size <= 0 {
					if len(chunks) != 0 {
						t.Errorf("layout(%d, %d, %d): %d chunks, want none", size, conns, cs, len(chunks))
					}
					continue
				}
				if len(chunks) == 0 || len(chunks) > maxChunks {
					t.Fatalf("layout(%d, %d, %d): %d chunks, want 1..%d", size, conns, cs, len(chunks), maxChunks)
				}
				var end int64
				for _, c := range chunks {
					if c.Offset != end || c.Size <= 0 || c.Size > size-end {
						t.Fatalf("layout(%d, %d, %d): chunk %+v after %d", size, conns, cs, c, end)
					}
					end += c.Size
				}
				if end != size {
					t.Fatalf("layout(%d, %d, %d) covers %d bytes", size, conns, cs, end)
				}
			}
		}
	}
}

// The sizes README.md ("Pulls") and doc.go state: ranges of 1-32 MiB from
// a file over 1 MiB up, grown past 32 MiB above 128 GiB (at most 4096),
// and a ring of 2 x connections + 2 buffers of 1 MiB, 18 MiB at the default.
func TestDocumentedRangeAndRingSizes(t *testing.T) {
	for _, tc := range []struct{ size, chunk int64 }{
		{1 << 20, 1 << 20}, {1<<20 + 1, 1 << 20}, {64 << 20, 1 << 20}, {1 << 30, 16 << 20},
		{100 << 30, 32 << 20}, {128 << 30, 32 << 20}, {256 << 30, 64 << 20},
	} {
		if got := chunkSizeFor(tc.size, DefaultConnections); got != tc.chunk {
			t.Errorf("%d MiB: ranges of %d MiB, want %d MiB", tc.size>>20, got>>20, tc.chunk>>20)
		}
	}
	if n := len(layout(1<<20, DefaultConnections, 0)); n != 1 {
		t.Errorf("a 1 MiB file: %d ranges, want 1", n)
	}
	if n := len(layout(256<<30, DefaultConnections, 0)); n != maxChunks || maxChunks != 4096 {
		t.Errorf("a 256 GiB file: %d ranges, want 4096", n)
	}
	if b := ringSize(DefaultConnections) * bufSize; DefaultConnections != 8 || b != 18<<20 {
		t.Errorf("the ring at %d connections is %d MiB, want 18 at 8", DefaultConnections, b>>20)
	}
}

// Every file from a few MiB up is split so all connections work on it.
func TestChunkSizeUsesEveryConnection(t *testing.T) {
	for _, size := range []int64{4 << 20, 64 << 20, 256 << 20, 1 << 30, 100 << 30} {
		n := len(layout(size, DefaultConnections, 0))
		if n < min(DefaultConnections, int(size/minChunk)) {
			t.Errorf("%d MiB: %d chunks for %d connections", size>>20, n, DefaultConnections)
		}
	}
}

// A hub claiming an absurd size is refused by the disk-space preflight
// before any chunk is laid out, any byte requested or any file created.
func TestHugeLinkedSizeIsRefusedBeforeAllocating(t *testing.T) {
	e := newEnv(t)
	e.c.FreeSpace = nil // the real statfs: no disk holds 8 EiB
	e.hub.Add(testRepo, "m.gguf", randomBytes(1000))
	e.hub.SetLinkedSize(testRepo, "m.gguf", math.MaxInt64)
	r, err := e.c.Resolve(context.Background(), testRepo, "main", "m.gguf")
	if err != nil {
		t.Fatal(err)
	}
	if r.Size != math.MaxInt64 {
		t.Fatalf("resolved size %d, want the claimed MaxInt64", r.Size)
	}
	dst := e.dst("m.gguf")
	err = e.c.Fetch(context.Background(), r, dst, FetchOptions{})
	if !errors.Is(err, ErrNoSpace) {
		t.Fatalf("err = %v, want ErrNoSpace", err)
	}
	if n := len(e.hub.Requests(hftest.CDN)); n != 0 {
		t.Errorf("%d CDN requests before the refusal", n)
	}
	assertMissing(t, dst, dst+".partial", dst+".partial.json")
}

// Kill mid-download, flip a byte of what was kept, pull again: the kept
// bytes are hashed from the file, so the damage is caught, never
// reported as verified.
func TestTamperedPartialIsNotVerified(t *testing.T) {
	e := newEnv(t)
	e.c.Connections, e.c.ChunkSize, e.c.MaxRetries = 1, 256<<10, -1
	data := randomBytes(1 << 20)
	r := e.resolve("m.gguf", data)
	dst := e.dst("m.gguf")
	e.hub.Inject(hftest.Fault{Kind: hftest.Cut, After: 1000, Skip: 2})
	if err := e.c.Fetch(context.Background(), r, dst, FetchOptions{}); err == nil {
		t.Fatal("first fetch succeeded, want the cut to stop it")
	}
	if kept := Resumable(r, dst); kept < 300<<10 {
		t.Fatalf("only %d bytes kept, want the first chunks", kept)
	}
	f, err := os.OpenFile(dst+".partial", os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	b := []byte{data[100_000] ^ 0x55}
	if _, err := f.WriteAt(b, 100_000); err != nil {
		t.Fatal(err)
	}
	f.Close()

	var res FetchResult
	err = e.c.Fetch(context.Background(), r, dst, FetchOptions{Result: &res})
	if !errors.Is(err, ErrChecksum) {
		t.Fatalf("resume of a tampered partial: err = %v, want ErrChecksum", err)
	}
	assertMissing(t, dst, dst+".partial", dst+".partial.json")
	if res.Resumed == 0 {
		t.Errorf("Result.Resumed = 0, want the kept bytes")
	}
	// The next pull starts clean and succeeds.
	if err := e.c.Fetch(context.Background(), r, dst, FetchOptions{}); err != nil {
		t.Fatal(err)
	}
	assertFile(t, dst, data)
}

// Fetches sharing a Budget keep at most its size of requests in flight.
func TestBudgetCapsRequestsAcrossFetches(t *testing.T) {
	e := newEnv(t)
	e.c.Connections, e.c.ChunkSize = 8, 256<<10
	e.hub.SetRate(8 << 20) // responses last long enough to overlap
	a := e.resolve("a.gguf", randomBytes(2<<20))
	b := e.resolve("b.gguf", randomBytes(2<<20+1))
	budget := NewBudget(3)
	errs := make(chan error, 2)
	for _, r := range []Remote{a, b} {
		go func() {
			errs <- e.c.Fetch(context.Background(), r, e.dst(r.File), FetchOptions{Budget: budget})
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := e.hub.MaxInFlight(); n > 3 {
		t.Errorf("%d CDN responses at once, want at most the budget of 3", n)
	}
}

// Result.Downloaded counts only what this Fetch received: nothing when dst
// was already complete (another process finished it during the lock wait).
func TestFetchResultCountsOnlyReceivedBytes(t *testing.T) {
	e := newEnv(t)
	data := randomBytes(3 << 20)
	r := e.resolve("m.gguf", data)
	dst := e.dst("m.gguf")
	var res FetchResult
	if err := e.c.Fetch(context.Background(), r, dst, FetchOptions{Result: &res}); err != nil {
		t.Fatal(err)
	}
	if res.Downloaded != int64(len(data)) || res.Resumed != 0 {
		t.Errorf("first fetch: %+v, want %d downloaded", res, len(data))
	}
	res = FetchResult{Downloaded: -1}
	if err := e.c.Fetch(context.Background(), r, dst, FetchOptions{Result: &res}); err != nil {
		t.Fatal(err)
	}
	if res.Downloaded != 0 {
		t.Errorf("fetch of a complete dst: %+v, want 0 downloaded", res)
	}
}

// A Retry-After of minutes is announced (how long, why), once, not waited
// out in silence.
func TestLongRetryAfterIsAnnounced(t *testing.T) {
	e := newEnv(t)
	data := randomBytes(3 << 20)
	r := e.resolve("m.gguf", data)
	e.hub.Inject(hftest.Fault{Kind: hftest.Status, Code: 429, RetryAfter: "180"})
	var waits []Progress
	err := e.c.Fetch(context.Background(), r, e.dst("m.gguf"), FetchOptions{Progress: func(p Progress) {
		if p.Phase == PhaseWaiting {
			waits = append(waits, p)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(waits) != 1 {
		t.Fatalf("waiting events %+v, want one", waits)
	}
	for _, want := range []string{"waiting 3m0s", "429", "Retry-After"} {
		if !strings.Contains(waits[0].Message, want) {
			t.Errorf("message %q does not say %q", waits[0].Message, want)
		}
	}
}

// Resolve's waits are announced too, through Client.OnWait.
func TestResolveAnnouncesLongRetryAfter(t *testing.T) {
	e := newEnv(t)
	e.hub.Add(testRepo, "a.gguf", []byte("abc"))
	e.hub.Inject(hftest.Fault{Kind: hftest.Status, Server: hftest.API, Code: 429, RetryAfter: "600"})
	var got []string
	e.c.OnWait = func(what, msg string) { got = append(got, what+": "+msg) }
	if _, err := e.c.Resolve(context.Background(), testRepo, "main", "a.gguf"); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !strings.Contains(got[0], "a.gguf: waiting 5m0s") || !strings.Contains(got[0], "capped at 5m0s") {
		t.Errorf("announced %q, want one wait of 5m0s (Retry-After 10m capped)", got)
	}
}
