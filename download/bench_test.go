package download

import (
	"context"
	"crypto/sha256"
	"fmt"
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

// BenchmarkThrottledPull fetches 64 MiB, 256 MiB and 1 GiB (sha256
// verified, fsynced) from a CDN that gives each connection 25 MB/s, as
// Hugging Face's CDN caps a connection: with one connection and with olm's
// defaults. One run of each takes about 70 s in all:
//
//	go test -run '^$' -bench BenchmarkThrottledPull -benchtime 1x ./download/
func BenchmarkThrottledPull(b *testing.B) {
	const rate = 25_000_000
	hub := hftest.New(b)
	hub.SetRate(rate)
	for _, mib := range []int{64, 256, 1024} {
		name := fmt.Sprintf("%dMiB", mib)
		b.Run(name, func(b *testing.B) {
			size := int64(mib) << 20
			hub.Add(testRepo, name+".gguf", randomBytes(int(size)))
			for _, mode := range []struct {
				name  string
				conns int
			}{{"conns=1", 1}, {"default", 0}} {
				b.Run(mode.name, func(b *testing.B) {
					c := &Client{Endpoint: hub.URL(), Connections: mode.conns}
					r, err := c.Resolve(context.Background(), testRepo, "main", name+".gguf")
					if err != nil {
						b.Fatal(err)
					}
					dst := filepath.Join(b.TempDir(), "blob")
					b.SetBytes(size)
					for b.Loop() {
						if err := c.Fetch(context.Background(), r, dst, FetchOptions{}); err != nil {
							b.Fatal(err)
						}
						b.StopTimer()
						os.Remove(dst)
						b.StartTimer()
					}
					b.ReportMetric(float64(size)/rate, "one-conn-floor-s")
				})
			}
		})
	}
}

// BenchmarkResume measures what re-hashing kept bytes costs a resume:
// 256 MiB of which an interrupted pull left 128 MiB (fsynced, still in the
// page cache), finished with olm's defaults from an unthrottled loopback
// CDN (nothing hides the re-read) and from a 25 MB/s-per-connection one.
// "fresh-s" is a fresh pull of a 128 MiB file in the same run, the same
// download without anything to re-hash; "rehash-s" is hashing the kept
// 128 MiB from the file alone.
//
//	go test -run '^$' -bench BenchmarkResume -benchtime 3x ./download/
func BenchmarkResume(b *testing.B) {
	const size, kept = 256 << 20, 128 << 20
	data := randomBytes(size)
	for _, rate := range []int64{0, 25_000_000} {
		b.Run(fmt.Sprintf("rate=%d", rate), func(b *testing.B) {
			hub := hftest.New(b)
			hub.SetRate(rate)
			hub.Add(testRepo, "m.gguf", data)
			hub.Add(testRepo, "half.gguf", data[kept:])
			c := &Client{Endpoint: hub.URL()}
			r, err := c.Resolve(context.Background(), testRepo, "main", "m.gguf")
			if err != nil {
				b.Fatal(err)
			}
			half, err := c.Resolve(context.Background(), testRepo, "main", "half.gguf")
			if err != nil {
				b.Fatal(err)
			}
			dst := filepath.Join(b.TempDir(), "blob")
			var rehash, fresh time.Duration
			b.SetBytes(size - kept)
			for b.Loop() {
				b.StopTimer()
				os.Remove(dst)
				plantPartial(b, r, dst, data[:kept])
				t0 := time.Now()
				h := newPrefixHasher(mustOpen(b, partialPath(dst)))
				if err := h.catchUp(kept); err != nil {
					b.Fatal(err)
				}
				rehash += time.Since(t0)
				os.Remove(dst + ".half")
				t0 = time.Now()
				if err := c.Fetch(context.Background(), half, dst+".half", FetchOptions{}); err != nil {
					b.Fatal(err)
				}
				fresh += time.Since(t0)
				b.StartTimer()
				var res FetchResult
				if err := c.Fetch(context.Background(), r, dst, FetchOptions{Result: &res}); err != nil {
					b.Fatal(err)
				}
				if res.Resumed != kept {
					b.Fatalf("resumed %d bytes, want %d", res.Resumed, kept)
				}
			}
			b.ReportMetric(rehash.Seconds()/float64(b.N), "rehash-s")
			b.ReportMetric(fresh.Seconds()/float64(b.N), "fresh-s")
		})
	}
}

// plantPartial leaves what an interrupted Fetch of r with the default
// layout would: the first len(kept) bytes on disk and a state saying so.
func plantPartial(b *testing.B, r Remote, dst string, kept []byte) {
	st := newState(r, DefaultConnections, 0)
	left := int64(len(kept))
	for i := range st.Chunks {
		st.Chunks[i].Done = min(st.Chunks[i].Size, left)
		left -= st.Chunks[i].Done
	}
	f, err := os.Create(partialPath(dst))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(kept); err != nil {
		b.Fatal(err)
	}
	if err := f.Truncate(r.Size); err != nil {
		b.Fatal(err)
	}
	if err := f.Sync(); err != nil { // as Fetch leaves it: on disk
		b.Fatal(err)
	}
	if err := st.save(statePath(dst)); err != nil {
		b.Fatal(err)
	}
}

func mustOpen(b *testing.B, path string) *os.File {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	return f
}
