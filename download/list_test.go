package download

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/olm-dev/olm/download/hftest"
)

// The hub pages long listings with Link: <next>; rel="next".
func TestListFollowsLinkPages(t *testing.T) {
	e := newEnv(t)
	var want []string
	for i := range 5 {
		name := fmt.Sprintf("m-%05d-of-00005.gguf", i+1)
		e.hub.Add(testRepo, name, randomBytes(100+i))
		want = append(want, name)
	}
	e.hub.SetTreePageSize(2)
	files, err := e.c.List(context.Background(), testRepo, "main")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		got = append(got, f.Path)
	}
	if !slices.Equal(got, want) {
		t.Errorf("listed %v, want all of %v once", got, want)
	}
	var tree int
	for _, r := range e.hub.Requests(hftest.API) {
		if r.Path == "/api/models/"+testRepo+"/tree/main" {
			tree++
		}
	}
	if tree != 3 {
		t.Errorf("%d tree requests, want 3 pages", tree)
	}
}

// treeServer answers every tree page with one entry and the Link header
// next(r) gives ("" for none). After stopAfter requests it answers 404, so
// a client that follows without end fails the test instead of hanging it.
func treeServer(t *testing.T, stopAfter int, next func(r *http.Request) string) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if int(n.Add(1)) > stopAfter {
			http.NotFound(w, r)
			return
		}
		if l := next(r); l != "" {
			w.Header().Set("Link", "<"+l+`>; rel="next"`)
		}
		fmt.Fprintf(w, `[{"type":"file","path":"m-%d.gguf","size":1}]`, n.Load())
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// A hub whose next page is the page itself is refused at once, naming
// the repo, not followed until memory runs out.
func TestListRefusesPaginationLoop(t *testing.T) {
	srv, n := treeServer(t, 50, func(r *http.Request) string { return r.URL.RequestURI() })
	c := &Client{Endpoint: srv.URL, MaxRetries: -1}
	_, err := c.List(context.Background(), testRepo, "main")
	if err == nil || !strings.Contains(err.Error(), testRepo) || !strings.Contains(err.Error(), "listed already") {
		t.Fatalf("err = %v, want a refusal of the loop naming %s", err, testRepo)
	}
	if got := n.Load(); got != 1 {
		t.Errorf("%d tree requests, want the one page before the loop was seen", got)
	}
}

// A hub that pages forever with ever new cursors is cut off at the page cap.
func TestListCapsPages(t *testing.T) {
	srv, n := treeServer(t, maxListPages+100, func(r *http.Request) string {
		q := r.URL.Query()
		c, _ := strconv.Atoi(q.Get("cursor"))
		q.Set("cursor", strconv.Itoa(c+1))
		return r.URL.Path + "?" + q.Encode()
	})
	c := &Client{Endpoint: srv.URL, MaxRetries: -1}
	_, err := c.List(context.Background(), testRepo, "main")
	if err == nil || !strings.Contains(err.Error(), testRepo) || !strings.Contains(err.Error(), "over 1000 pages") {
		t.Fatalf("err = %v, want the page cap naming %s", err, testRepo)
	}
	if got := n.Load(); got != maxListPages {
		t.Errorf("%d tree requests, want %d", got, maxListPages)
	}
}

// A next page on another host is not followed: the listing stays on the
// hub it was asked of.
func TestListStaysOnTheHubHost(t *testing.T) {
	other, otherN := treeServer(t, 50, func(*http.Request) string { return "" })
	srv, _ := treeServer(t, 50, func(*http.Request) string { return other.URL + "/api/models/x/y/tree/main" })
	c := &Client{Endpoint: srv.URL, MaxRetries: -1, Token: "hf_secret"}
	_, err := c.List(context.Background(), testRepo, "main")
	if err == nil || !strings.Contains(err.Error(), "off the hub") {
		t.Fatalf("err = %v, want a next page off the hub refused", err)
	}
	if got := otherN.Load(); got != 0 {
		t.Errorf("the other host got %d requests", got)
	}
}

// The caps on entries and bytes hold across pages, however the hub cuts them.
func TestPagerCapsEntriesAndBytes(t *testing.T) {
	const first = "http://hub.test/api/models/o/r/tree/main?recursive=true"
	page := func(i int) string { return "http://hub.test/api/models/o/r/tree/main?cursor=" + strconv.Itoa(i) }
	for _, tc := range []struct {
		name           string
		entries, bytes int64 // per page
		pages          int   // pages accepted before the refusal
		want           string
	}{
		{"entries", 30_000, 1 << 20, 3, "over 100000 entries"},
		{"bytes", 10, 30 << 20, 8, "over 256 MiB"},
	} {
		p, err := newPager("http://hub.test", first)
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; ; i++ {
			err := p.advance(int(tc.entries), tc.bytes, page(i))
			if err == nil {
				continue
			}
			if i != tc.pages+1 || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: page %d refused with %v, want page %d refused with %q", tc.name, i, err, tc.pages+1, tc.want)
			}
			break
		}
	}
}
