package download

import (
	"context"
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
// streaming, verify, rename) with one plain http.Get into io.Discard of
// the same 256 MiB from the same loopback CDN, in the same run.
//
//	go test -run '^$' -bench BenchmarkFetch -benchtime 3x ./download/
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

	var plain, fetch time.Duration
	var alloc uint64
	var ms runtime.MemStats
	b.SetBytes(size)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		resp, err := http.Get(cdnURL)
		if err != nil {
			b.Fatal(err)
		}
		if n, err := io.Copy(io.Discard, resp.Body); err != nil || n != size {
			b.Fatal(n, err)
		}
		resp.Body.Close()
		plain += time.Since(t0)

		dst := filepath.Join(dir, "blob")
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
	b.ReportMetric(mbps(fetch), "fetch-MB/s")
	b.ReportMetric(plain.Seconds()/fetch.Seconds(), "ratio")
	b.ReportMetric(float64(alloc)/float64(b.N), "fetch-alloc-B/op")
}
