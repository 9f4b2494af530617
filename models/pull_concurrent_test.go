package models

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/olm-dev/olm/download"
	"github.com/olm-dev/olm/download/hftest"
)

// The parts of a split model download at once: part 2 finishes while
// part 1 is stalled. One after the other, part 1 would finish first.
func TestPullSplitPartsDownloadConcurrently(t *testing.T) {
	const repo = "olm-dev/split-GGUF"
	hub := hftest.New(t)
	p1, p2 := "m-00001-of-00002.gguf", "m-00002-of-00002.gguf"
	hub.Add(repo, p1, []byte(strings.Repeat("1", 3<<20)))
	hub.Add(repo, p2, []byte(strings.Repeat("2", 3<<20)))
	hub.Inject(hftest.Fault{Kind: hftest.Stall, After: 1000, File: p1})
	client := &download.Client{Endpoint: hub.URL(), StallTimeout: time.Minute,
		FreeSpace: func(string) (uint64, error) { return 1 << 40, nil }}
	st := Store{Root: t.TempDir()}
	ref := Ref{Name: "split", Source: SourceHF, Repo: repo, Revision: "main", Files: []string{p1, p2}}

	var order []string
	got, err := Pull(context.Background(), st, ref, client, func(e Event) {
		if e.Phase == PhaseVerify && e.Done == e.Total {
			order = append(order, e.File)
			if e.File == p2 {
				hub.Release() // part 2 is done: let part 1 go on
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(order) == 0 || order[0] != p2 {
		t.Errorf("verified in order %v, want part 2 first (while part 1 stalled)", order)
	}
	if len(got.Paths) != 2 || filepath.Base(got.Paths[0]) != p1 || got.Downloaded != 6<<20 {
		t.Errorf("pulled %+v", got)
	}
}

// A pull that found the blob finished by another pull while it waited
// for the lock downloaded nothing, and says so.
func TestPullThatOnlyWaitedDownloadsNothing(t *testing.T) {
	st, hub, ref := pullFixture(t)
	hub.beforeFetch = func(r download.Remote, dst string) {
		os.WriteFile(dst, hub.files[r.File], 0o644) // the other pull's verified result
	}
	got, err := Pull(context.Background(), st, ref, hub, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Downloaded != 0 {
		t.Errorf("Downloaded = %d, want 0: this pull fetched nothing", got.Downloaded)
	}
}

// One unsafe name in a listing is skipped with a warning; it blocks only
// a request that picks it.
func TestUnsafeNameInListingIsSkipped(t *testing.T) {
	hub := &fakeHub{commit: strings.Repeat("1", 40), files: map[string][]byte{"m.Q4_K_M.gguf": []byte("GGUF q4")},
		unsafe: []string{"../evil.Q8_0.gguf"}}
	env := Env{HubCache: t.TempDir(), OlmHome: t.TempDir()}
	r := Resolver{Env: env, Lister: hub}
	ref, err := r.Resolve(context.Background(), "hf.co/o/r")
	if err != nil {
		t.Fatalf("resolve with one unsafe name listed: %v", err)
	}
	if ref.Files[0] != "m.Q4_K_M.gguf" || len(ref.Warnings) != 1 || !strings.Contains(ref.Warnings[0], "../evil.Q8_0.gguf") {
		t.Errorf("ref files %v, warnings %q", ref.Files, ref.Warnings)
	}
	var warned []string
	if _, err := Pull(context.Background(), env.Store(), ref, hub, func(e Event) {
		if e.Phase == PhaseWarning {
			warned = append(warned, e.Message)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if len(warned) != 1 {
		t.Errorf("pull warnings %q, want the skipped name", warned)
	}
	if _, err := r.Resolve(context.Background(), "hf.co/o/r:Q8_0"); !errors.Is(err, download.ErrUnsafeName) {
		t.Errorf("asking for the unsafe quant: %v, want ErrUnsafeName", err)
	}
}
