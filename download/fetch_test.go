package download

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/olm-dev/olm/download/hftest"
)

func TestFetchOneConnection(t *testing.T) {
	e := newEnv(t)
	e.c.Connections = 1
	data := randomBytes(3<<20 + 17)
	r := e.resolve("m.gguf", data)
	var phases []Phase
	dst := e.dst("m.gguf")
	err := e.c.Fetch(context.Background(), r, dst, FetchOptions{Progress: func(p Progress) {
		if len(phases) == 0 || phases[len(phases)-1] != p.Phase {
			phases = append(phases, p.Phase)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	assertFile(t, dst, data)
	if want := []Phase{PhaseDownloading, PhaseVerifying, PhaseDone}; !slices.Equal(phases, want) {
		t.Errorf("phases %v, want %v", phases, want)
	}
	if got := ranges(e.hub.Requests(hftest.CDN)); len(got) != 1 {
		t.Errorf("CDN GETs %v, want one stream", got)
	}
}

func TestFetchParallelChunks(t *testing.T) {
	e := newEnv(t)
	e.c.Connections, e.c.ChunkSize = 4, 256<<10
	data := randomBytes(3<<20 + 5)
	r := e.resolve("m.gguf", data)
	dst := e.dst("m.gguf")
	if err := e.c.Fetch(context.Background(), r, dst, FetchOptions{}); err != nil {
		t.Fatal(err)
	}
	assertFile(t, dst, data)
	got := ranges(e.hub.Requests(hftest.CDN))
	slices.Sort(got)
	var want []string
	for off := int64(0); off < int64(len(data)); off += 256 << 10 {
		want = append(want, fmt.Sprintf("bytes=%d-%d", off, min(off+256<<10, int64(len(data)))-1))
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("ranges fetched:\n%v\nwant each chunk once:\n%v", got, want)
	}
}

// A failed fetch leaves state; the next one asks only for what is missing.
func TestResumeFetchesOnlyMissingBytes(t *testing.T) {
	e := newEnv(t)
	e.c.Connections, e.c.ChunkSize, e.c.MaxRetries = 1, 256<<10, -1
	data := randomBytes(1 << 20)
	r := e.resolve("m.gguf", data)
	dst := e.dst("m.gguf")
	// Chunks 0 and 1 arrive; chunk 2 is cut after 1000 bytes.
	e.hub.Inject(hftest.Fault{Kind: hftest.Cut, After: 1000, Skip: 2})
	err := e.c.Fetch(context.Background(), r, dst, FetchOptions{})
	if err == nil || errors.Is(err, ErrChecksum) {
		t.Fatalf("first fetch: %v, want a transport error", err)
	}
	assertMissing(t, dst)
	st, err := loadState(dst + ".partial.json")
	if err != nil {
		t.Fatal(err)
	}
	if d := []int64{st.Chunks[0].Done, st.Chunks[1].Done, st.Chunks[2].Done, st.Chunks[3].Done}; !slices.Equal(d, []int64{256 << 10, 256 << 10, 1000, 0}) {
		t.Fatalf("saved progress %v", d)
	}
	if n := Resumable(r, dst); n != 512<<10+1000 {
		t.Errorf("Resumable = %d, want the %d bytes kept", n, 512<<10+1000)
	}
	other := r
	other.SHA256, other.Size = strings.Repeat("0", 64), r.Size
	if n := Resumable(other, dst); n != 0 {
		t.Errorf("Resumable of other content = %d, want 0", n)
	}

	e.hub.ResetRequests()
	if err := e.c.Fetch(context.Background(), r, dst, FetchOptions{}); err != nil {
		t.Fatal(err)
	}
	assertFile(t, dst, data)
	want := []string{fmt.Sprintf("bytes=%d-%d", 512<<10+1000, 768<<10-1), fmt.Sprintf("bytes=%d-%d", 768<<10, 1<<20-1)}
	if got := ranges(e.hub.Requests(hftest.CDN)); !slices.Equal(got, want) {
		t.Errorf("resume fetched %v, want only %v", got, want)
	}
}

func TestCutMidBodyIsRetriedFromTheCut(t *testing.T) {
	e := newEnv(t)
	data := randomBytes(1 << 20)
	r := e.resolve("m.gguf", data)
	e.hub.Inject(hftest.Fault{Kind: hftest.Cut, After: 100_000})
	dst := e.dst("m.gguf")
	if err := e.c.Fetch(context.Background(), r, dst, FetchOptions{}); err != nil {
		t.Fatal(err)
	}
	assertFile(t, dst, data)
	want := []string{"bytes=0-1048575", "bytes=100000-1048575"}
	if got := ranges(e.hub.Requests(hftest.CDN)); !slices.Equal(got, want) {
		t.Errorf("ranges %v, want %v", got, want)
	}
}

func TestServerErrorsAreRetried(t *testing.T) {
	e := newEnv(t)
	data := randomBytes(100_000)
	r := e.resolve("m.gguf", data)
	e.hub.Inject(hftest.Fault{Kind: hftest.Status, Code: 500, Times: 2})
	e.hub.Inject(hftest.Fault{Kind: hftest.Status, Code: 503})
	dst := e.dst("m.gguf")
	if err := e.c.Fetch(context.Background(), r, dst, FetchOptions{}); err != nil {
		t.Fatal(err)
	}
	assertFile(t, dst, data)
	s := e.clock.Sleeps()
	if len(s) != 3 {
		t.Fatalf("sleeps %v, want 3 backoffs", s)
	}
	// Exponential with jitter in [d/2, d): attempt 3 waits at least 1s, attempt 1 under 0.5s.
	if s[0] >= backoffBase || s[2] < 2*backoffBase {
		t.Errorf("backoff not exponential: %v", s)
	}
}

func TestRateLimitHonoursRetryAfter(t *testing.T) {
	e := newEnv(t)
	data := randomBytes(10_000)
	r := e.resolve("m.gguf", data)
	e.hub.Inject(hftest.Fault{Kind: hftest.Status, Code: 429, RetryAfter: "42"})
	dst := e.dst("m.gguf")
	if err := e.c.Fetch(context.Background(), r, dst, FetchOptions{}); err != nil {
		t.Fatal(err)
	}
	assertFile(t, dst, data)
	if s := e.clock.Sleeps(); !slices.Equal(s, []time.Duration{42 * time.Second}) {
		t.Errorf("sleeps %v, want [42s]", s)
	}
}

func TestRetriesRunOut(t *testing.T) {
	e := newEnv(t)
	e.c.MaxRetries = 2
	r := e.resolve("m.gguf", randomBytes(10_000))
	e.hub.Inject(hftest.Fault{Kind: hftest.Status, Code: 502, Times: -1})
	dst := e.dst("m.gguf")
	err := e.c.Fetch(context.Background(), r, dst, FetchOptions{})
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != 502 {
		t.Fatalf("err = %v, want HTTP 502", err)
	}
	if n := len(e.hub.Requests(hftest.CDN)); n != 3 {
		t.Errorf("%d CDN requests, want 1 + 2 retries", n)
	}
	assertMissing(t, dst)
}

func TestStallIsDetectedAndRetried(t *testing.T) {
	e := newEnv(t)
	e.c.StallTimeout = 200 * time.Millisecond
	data := randomBytes(1 << 20)
	r := e.resolve("m.gguf", data)
	e.hub.Inject(hftest.Fault{Kind: hftest.Stall, After: 50_000})
	dst := e.dst("m.gguf")
	if err := e.c.Fetch(context.Background(), r, dst, FetchOptions{}); err != nil {
		t.Fatal(err)
	}
	assertFile(t, dst, data)
	want := []string{"bytes=0-1048575", "bytes=50000-1048575"}
	if got := ranges(e.hub.Requests(hftest.CDN)); !slices.Equal(got, want) {
		t.Errorf("ranges %v, want %v", got, want)
	}
}

func TestWrongBytesFailChecksumAndAreRemoved(t *testing.T) {
	e := newEnv(t)
	e.c.Connections, e.c.ChunkSize = 2, 64<<10
	r := e.resolve("m.gguf", randomBytes(300_000))
	e.hub.Inject(hftest.Fault{Kind: hftest.Corrupt, Times: -1})
	dst := e.dst("m.gguf")
	err := e.c.Fetch(context.Background(), r, dst, FetchOptions{})
	if !errors.Is(err, ErrChecksum) {
		t.Fatalf("err = %v, want ErrChecksum", err)
	}
	for _, want := range []string{"m.gguf", "expected " + r.SHA256, "got "} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	assertMissing(t, dst, dst+".partial", dst+".partial.json")
}

func TestShortBody(t *testing.T) {
	e := newEnv(t)
	data := randomBytes(200_000)
	r := e.resolve("m.gguf", data)
	e.hub.Inject(hftest.Fault{Kind: hftest.Short, After: 1000})
	dst := e.dst("m.gguf")
	if err := e.c.Fetch(context.Background(), r, dst, FetchOptions{}); err != nil {
		t.Fatal(err)
	}
	assertFile(t, dst, data)
	if got := ranges(e.hub.Requests(hftest.CDN)); len(got) != 2 || got[1] != "bytes=1000-199999" {
		t.Errorf("ranges %v", got)
	}

	// A server that never sends anything is given up on, never "done".
	e2 := newEnv(t)
	e2.c.MaxRetries = 2
	r2 := e2.resolve("m.gguf", data)
	e2.hub.Inject(hftest.Fault{Kind: hftest.Short, After: 0, Times: -1})
	dst2 := e2.dst("m.gguf")
	if err := e2.c.Fetch(context.Background(), r2, dst2, FetchOptions{}); !errors.Is(err, errShortBody) {
		t.Fatalf("err = %v, want short body", err)
	}
	assertMissing(t, dst2)
}

func TestServerWithoutRangeSupport(t *testing.T) {
	e := newEnv(t)
	e.c.Connections, e.c.ChunkSize = 4, 128<<10
	data := randomBytes(1<<20 + 3)
	r := e.resolve("m.gguf", data)
	e.hub.Inject(hftest.Fault{Kind: hftest.NoRange, Times: -1})
	dst := e.dst("m.gguf")
	if err := e.c.Fetch(context.Background(), r, dst, FetchOptions{}); err != nil {
		t.Fatal(err)
	}
	assertFile(t, dst, data)
	// The parallel ranged requests already in flight may reach the server after the
	// fallback stream, so look for the plain stream among them rather than last.
	plain := 0
	for _, req := range e.hub.Requests(hftest.CDN) {
		if req.Status == 200 && req.Range == "" {
			plain++
		}
	}
	if plain != 1 {
		t.Errorf("%d plain streams from 0, want exactly the one fallback", plain)
	}
}

func TestDiskSpacePreflight(t *testing.T) {
	e := newEnv(t)
	e.c.FreeSpace = func(string) (uint64, error) { return 4096, nil }
	r := e.resolve("m.gguf", randomBytes(10_000))
	dst := e.dst("m.gguf")
	err := e.c.Fetch(context.Background(), r, dst, FetchOptions{})
	if !errors.Is(err, ErrNoSpace) || !strings.Contains(err.Error(), "10000") || !strings.Contains(err.Error(), "4096") {
		t.Fatalf("err = %v, want ErrNoSpace naming 10000 needed and 4096 free", err)
	}
	if n := len(e.hub.Requests(hftest.CDN)); n != 0 {
		t.Errorf("%d CDN requests before the refusal", n)
	}
}

// Cancel mid-download: prompt return, partial kept, next Fetch completes it.
func TestCancelKeepsPartialAndResumes(t *testing.T) {
	e := newEnv(t)
	data := randomBytes(1 << 20)
	r := e.resolve("m.gguf", data)
	e.hub.Inject(hftest.Fault{Kind: hftest.Stall, After: 300_000})
	dst := e.dst("m.gguf")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	arrived := make(chan struct{})
	var once sync.Once
	errc := make(chan error, 1)
	go func() {
		errc <- e.c.Fetch(ctx, r, dst, FetchOptions{Progress: func(p Progress) {
			if p.Done == 300_000 {
				once.Do(func() { close(arrived) })
			}
		}})
	}()
	<-e.hub.Stalls()
	<-arrived
	cancel()
	err := <-errc
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	assertMissing(t, dst)
	st, err := loadState(dst + ".partial.json")
	if err != nil {
		t.Fatalf("state not kept: %v", err)
	}
	if st.Chunks[0].Done != 300_000 {
		t.Errorf("saved %d bytes done, want 300000", st.Chunks[0].Done)
	}

	e.hub.ResetRequests()
	if err := e.c.Fetch(context.Background(), r, dst, FetchOptions{}); err != nil {
		t.Fatal(err)
	}
	assertFile(t, dst, data)
	if got := ranges(e.hub.Requests(hftest.CDN)); !slices.Equal(got, []string{"bytes=300000-1048575"}) {
		t.Errorf("resume fetched %v", got)
	}
}

// Two fetches of one file: the second waits for the first's lock, then
// finds the file complete; NoWait reports the holder instead.
func TestConcurrentFetchesShareOneDownload(t *testing.T) {
	e := newEnv(t)
	data := randomBytes(1 << 20)
	r := e.resolve("m.gguf", data)
	e.hub.Inject(hftest.Fault{Kind: hftest.Stall, After: 1000})
	dst := e.dst("m.gguf")

	ctx := context.Background()
	first := make(chan error, 1)
	go func() { first <- e.c.Fetch(ctx, r, dst, FetchOptions{}) }()
	<-e.hub.Stalls() // the first holds the lock now

	err := e.c.Fetch(ctx, r, dst, FetchOptions{NoWait: true})
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) {
		t.Fatalf("NoWait fetch: %v, want ErrLocked naming pid %d", err, os.Getpid())
	}
	second := make(chan error, 1)
	go func() { second <- e.c.Fetch(ctx, r, dst, FetchOptions{}) }()
	e.hub.Release()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-second; err != nil {
		t.Fatal(err)
	}
	assertFile(t, dst, data)
	if got := ranges(e.hub.Requests(hftest.CDN)); !slices.Equal(got, []string{"bytes=0-1048575", "bytes=1000-1048575"}) {
		t.Errorf("ranges %v: the second fetch must not download again", got)
	}
}

// A changed remote (different sha256) must not reuse old partial bytes.
func TestChangedRemoteDiscardsPartial(t *testing.T) {
	e := newEnv(t)
	e.c.MaxRetries = -1
	r := e.resolve("m.gguf", randomBytes(100_000))
	e.hub.Inject(hftest.Fault{Kind: hftest.Cut, After: 50_000})
	dst := e.dst("m.gguf")
	if err := e.c.Fetch(context.Background(), r, dst, FetchOptions{}); err == nil {
		t.Fatal("want the cut to fail the fetch")
	}
	data := randomBytes(100_001)
	r2 := e.resolve("m.gguf", data)
	e.hub.ResetRequests()
	if err := e.c.Fetch(context.Background(), r2, dst, FetchOptions{}); err != nil {
		t.Fatal(err)
	}
	assertFile(t, dst, data)
	if got := ranges(e.hub.Requests(hftest.CDN)); !slices.Equal(got, []string{"bytes=0-100000"}) {
		t.Errorf("ranges %v, want a fresh start", got)
	}
}
