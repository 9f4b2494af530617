package download

import (
	"context"
	"crypto/sha256"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/olm-dev/olm/download/hftest"
)

// BenchmarkFetch compares Fetch (ranged GET, write to disk, sha256 while
// streaming, verify, fsync, rename) on one connection with two plain GETs
// of the same 256 MiB from the same loopback CDN, in the same run:
// "ratio" is against a GET into io.Discard (the reference),
// "ratio-file" against a GET written to a file with 1 MiB writes and one
// fsync (the same disk work, no hashing).
//
//	go test -run '^$' -bench BenchmarkFetch -benchtime 5x ./download/
func BenchmarkFetch(b *testing.B) {
	const size = 256 << 20
	hub := hftest.New(b)
	f := hub.Add(testRepo, "big.gguf", randomBytes(size))
	c := &Client{Endpoint: hub.URL(), Connections: 1}
	ctx := context.Background()
	r, err := c.Resolve(ctx, testRepo, "main", "big.gguf")
	if err != nil {
		b.Fatal(err)
	}
	cdnURL := hub.CDN.URL + "/repos/" + f.SHA256
	dir := b.TempDir()
	dst := filepath.Join(dir, "blob")
	buf := make([]byte, 1<<20)

	var plain, plainFile, fetch time.Duration
	var alloc uint64
	var ms runtime.MemStats
	b.SetBytes(size)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		getTo(b, cdnURL, io.Discard, buf, size)
		plain += time.Since(t0)

		t0 = time.Now()
		out, err := os.Create(dst)
		if err != nil {
			b.Fatal(err)
		}
		getTo(b, cdnURL, struct{ io.Writer }{out}, buf, size) // hide ReaderFrom: use buf
		if err := out.Sync(); err != nil {
			b.Fatal(err)
		}
		out.Close()
		plainFile += time.Since(t0)
		b.StopTimer()
		os.Remove(dst)
		b.StartTimer()

		runtime.ReadMemStats(&ms)
		before := ms.TotalAlloc
		t0 = time.Now()
		if err := c.Fetch(ctx, r, dst, FetchOptions{}); err != nil {
			b.Fatal(err)
		}
		fetch += time.Since(t0)
		runtime.ReadMemStats(&ms)
		alloc += ms.TotalAlloc - before
		b.StopTimer()
		os.Remove(dst)
		b.StartTimer()
	}
	mbps := func(d time.Duration) float64 { return float64(size) * float64(b.N) / 1e6 / d.Seconds() }
	b.ReportMetric(mbps(plain), "plain-MB/s")
	b.ReportMetric(mbps(plainFile), "plainfile-MB/s")
	b.ReportMetric(mbps(fetch), "fetch-MB/s")
	b.ReportMetric(plain.Seconds()/fetch.Seconds(), "ratio")
	b.ReportMetric(plainFile.Seconds()/fetch.Seconds(), "ratio-file")
	b.ReportMetric(float64(alloc)/float64(b.N), "fetch-alloc-B/op")
}

// getTo copies one plain GET of url (size bytes) into w through buf.
func getTo(b *testing.B, url string, w io.Writer, buf []byte, size int64) {
	resp, err := http.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if n, err := io.CopyBuffer(w, resp.Body, buf); err != nil || n != size {
		b.Fatal(n, err)
	}
}

// BenchmarkSHA256 is the ceiling of one file's download: its hash runs on one core.
func BenchmarkSHA256(b *testing.B) {
	buf := randomBytes(1 << 20)
	h := sha256.New()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		h.Write(buf)
	}
}
