package download

import (
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"
)

// The fuzz targets cover what the downloader parses from a hub it does
// not trust. Seeds are the hostile cases of issue 14; crashers found are
// kept under testdata/fuzz and run by plain `go test`.
//
//	go test -run '^$' -fuzz FuzzRemoteHeaders -fuzztime 2m ./download/

// FuzzRemoteHeaders: resolve headers to a Remote, then the layout and
// preflight a Fetch of it would do. Nothing may panic or allocate without
// bound, and an accepted Remote is usable.
func FuzzRemoteHeaders(f *testing.F) {
	sha := "a3f1c0d2e4b5968778695a4b3c2d1e0f00112233445566778899aabbccddeeff"
	f.Add("9223372036854775807", `"`+sha+`"`, "", "abc", int64(-1))
	f.Add("-1", `W/"`+sha+`"`, `"x"`, "", int64(10))
	f.Add("", "", `"`+sha+`"`, "", int64(math.MaxInt64))
	f.Add("+12", `""`, "", "c", int64(0))
	f.Add("1e9", sha, sha, "", int64(-5))
	f.Add("18446744073709551616", "", "", "", int64(1))
	f.Fuzz(func(t *testing.T, size, linkedETag, etag, commit string, contentLength int64) {
		h := http.Header{}
		if size != "" {
			h.Set("X-Linked-Size", size)
		}
		h.Set("X-Linked-Etag", linkedETag)
		h.Set("ETag", etag)
		h.Set("X-Repo-Commit", commit)
		c := &Client{Endpoint: "http://hub.test"}
		r, err := remoteFrom(c, "o/r", "main", "m.gguf", h, contentLength)
		if err != nil {
			return
		}
		if r.Size < 0 || r.URL == "" {
			t.Fatalf("accepted remote with size %d, URL %q", r.Size, r.URL)
		}
		if r.SHA256 != "" && !isSHA256(r.SHA256) {
			t.Fatalf("sha256 %q", r.SHA256)
		}
		for _, conns := range []int{1, DefaultConnections, 64} {
			if n := len(layout(r.Size, conns, 0)); n > maxChunks {
				t.Fatalf("size %d: %d chunks", r.Size, n)
			}
		}
		fe := &fetcher{c: &Client{FreeSpace: func(string) (uint64, error) { return 1 << 40, nil }}, dst: "/x/m"}
		if err := fe.preflight(r.Size); (err == nil) != (uint64(r.Size) <= 1<<40) {
			t.Fatalf("preflight(%d) with 1 TiB free: %v", r.Size, err)
		}
	})
}

// FuzzTreeListing: any page body decodes or fails cleanly, and every
// name returned unflagged is safe to join to a directory. Any Link header
// gives a next page that is on the hub and not the page itself, or none.
func FuzzTreeListing(f *testing.F) {
	f.Add([]byte(`[{"type":"file","path":"ok.gguf","size":134,"oid":"x","lfs":{"oid":"`+"ab"+`","size":9223372036854775807}}]`), "")
	f.Add([]byte(`[{"type":"file","path":"../evil.gguf","size":-1}]`), `<?recursive=true>; rel="next"`)
	f.Add([]byte(`[{"type":"file","path":"a\u0000b"},{"type":"directory","path":"/etc"}]`), `<http://evil.test/api/models/o/r/tree/main>; rel="next"`)
	f.Add([]byte(`[{"type":"file","path":"C:x","lfs":null},{"type":"file","path":"a//b","size":1e30}]`), `<https://hub.test/x>; rel=next`)
	f.Add([]byte(`{"error":"Repository not found"}`), `<//hub.test:8080/x>; rel="next"`)
	f.Add([]byte(`[`+"{},"+`{"type":"file"}]`), `<http://hub.test/api/models/o/r/tree/main?recursive=true>; rel="next"`)
	f.Add([]byte(`[]`), `<http://hub.test/api/models/o/r/tree/main?cursor=2&recursive=true>; rel="next"`)
	const first = "http://hub.test/api/models/o/r/tree/main?recursive=true"
	firstURL, _ := url.Parse(first)
	f.Fuzz(func(t *testing.T, body []byte, link string) {
		var page []treeEntry
		if err := json.Unmarshal(body, &page); err == nil {
			for _, fl := range filesOf(page) {
				if fl.Unsafe == nil && ValidName(fl.Path) != nil {
					t.Fatalf("unsafe %q not flagged", fl.Path)
				}
				if fl.SHA256 != "" && !isSHA256(fl.SHA256) {
					t.Fatalf("sha256 %q", fl.SHA256)
				}
			}
		}
		p, err := newPager("http://hub.test", first)
		if err != nil {
			t.Fatal(err)
		}
		next := nextLink(link, firstURL)
		if p.advance(len(page), int64(len(body)), next) != nil || next == "" {
			return
		}
		u, err := url.Parse(next)
		if err != nil || u.Scheme != "http" || u.Host != "hub.test" || u.String() == first {
			t.Fatalf("followed %q (from Link %q)", next, link)
		}
		if p.advance(0, 0, next) == nil {
			t.Fatalf("followed %q twice", next)
		}
	})
}

// FuzzContentRange: the answer to a ranged GET is accepted only when it
// is exactly the range asked for. The request is built from the inputs so
// every one is a request Fetch could make.
func FuzzContentRange(f *testing.F) {
	for _, s := range []string{"bytes 0-99/100", "bytes -1-5/10", "bytes +0-99/100", "bytes 9223372036854775807-9223372036854775807/*",
		"bytes 5-4/10", "bytes */100", "bytes 0-99/99", "bytes 00-99/100", "bytes 0-99/100 ", "bytes 0-99/*", ""} {
		f.Add(s, uint32(0), uint32(99), uint32(0))
	}
	f.Fuzz(func(t *testing.T, cr string, start, length, tail uint32) {
		s, e := int64(start), int64(start)+int64(length)+1
		size := e + int64(tail)
		if !rangeMatches(cr, s, e, size) {
			return
		}
		want := "bytes " + strconv.FormatInt(s, 10) + "-" + strconv.FormatInt(e-1, 10) + "/"
		if cr != want+strconv.FormatInt(size, 10) && cr != want+"*" {
			t.Fatalf("accepted %q for [%d, %d) of %d", cr, s, e, size)
		}
	})
}

// FuzzRetryAfter: a wait is never negative, and a number of seconds is
// taken as such (up to the cap), however large.
func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"42", "0", "-1", "9223372036854775807", "9223372036", "99999999999", "1.5",
		"Wed, 21 Oct 2015 07:28:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT", " 5", "+5"} {
		f.Add(s)
	}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		d := retryAfter(v, now)
		if d < 0 {
			t.Fatalf("retryAfter(%q) = %v", v, d)
		}
		if s, err := strconv.ParseUint(v, 10, 64); err == nil && v[0] != '+' {
			want := time.Duration(min(s, uint64(maxRetryAfterSeconds))) * time.Second
			if d != want {
				t.Fatalf("retryAfter(%q) = %v, want %v", v, d, want)
			}
		}
		if b := backoff(1, &retryable{after: d}); b < 0 || b > retryAfterMax {
			t.Fatalf("backoff for %v = %v", d, b)
		}
	})
}
