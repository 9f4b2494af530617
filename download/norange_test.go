package download

import (
	"context"
	"slices"
	"testing"

	"github.com/olm-dev/olm/download/hftest"
)

// A server without Range support cut mid-body: the retry, and a later
// Fetch after giving up, read past the bytes already on disk instead of
// starting over, and the persisted hash state carries on.
func TestNoRangeServerResumesAfterCut(t *testing.T) {
	data := randomBytes(1 << 20)
	t.Run("retry", func(t *testing.T) {
		e := newEnv(t)
		r := e.resolve("m.gguf", data)
		e.hub.SetRangeSupport(false)
		e.hub.Inject(hftest.Fault{Kind: hftest.Cut, After: 300_000})
		dst := e.dst("m.gguf")
		if err := e.c.Fetch(context.Background(), r, dst, FetchOptions{}); err != nil {
			t.Fatal(err)
		}
		assertFile(t, dst, data)
		assertRequests(t, e.hub.Requests(hftest.CDN), "bytes=0-1048575", "bytes=300000-1048575")
	})
	t.Run("next fetch", func(t *testing.T) {
		e := newEnv(t)
		e.c.MaxRetries = -1
		r := e.resolve("m.gguf", data)
		e.hub.SetRangeSupport(false)
		e.hub.Inject(hftest.Fault{Kind: hftest.Cut, After: 300_000})
		dst := e.dst("m.gguf")
		if err := e.c.Fetch(context.Background(), r, dst, FetchOptions{}); err == nil {
			t.Fatal("want the cut to fail the first fetch")
		}
		st, err := loadState(dst + ".partial.json")
		if err != nil {
			t.Fatal(err)
		}
		if st.Chunks[0].Done != 300_000 {
			t.Fatalf("saved done %d, want 300000", st.Chunks[0].Done)
		}
		e.hub.ResetRequests()
		if err := e.c.Fetch(context.Background(), r, dst, FetchOptions{}); err != nil {
			t.Fatal(err)
		}
		assertFile(t, dst, data)
		assertRequests(t, e.hub.Requests(hftest.CDN), "bytes=300000-1048575")
	})
}

// assertRequests checks the Range of each GET, and that the server
// ignored every one (200, whole body).
func assertRequests(t *testing.T, reqs []hftest.Request, want ...string) {
	t.Helper()
	if got := ranges(reqs); !slices.Equal(got, want) {
		t.Errorf("ranges %v, want %v", got, want)
	}
	for _, r := range reqs {
		if r.Status != 200 {
			t.Errorf("request %+v: want 200 from a server without Range", r)
		}
	}
}
