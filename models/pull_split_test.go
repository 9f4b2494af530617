package models

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/olm-dev/olm/download"
	"github.com/olm-dev/olm/download/hftest"
)

const splitRepo = "olm-dev/split-GGUF"

// addSplitParts registers n parts of size bytes each (distinct contents) and
// returns a ref that pulls them all.
func addSplitParts(hub *hftest.Hub, n, size int) Ref {
	ref := Ref{Name: "split", Source: SourceHF, Repo: splitRepo, Revision: "main"}
	for i := range n {
		name := "m-0000" + string(rune('1'+i)) + "-of-0000" + string(rune('0'+n)) + ".gguf"
		hub.Add(splitRepo, name, bytes.Repeat([]byte{byte('1' + i)}, size))
		ref.Files = append(ref.Files, name)
	}
	return ref
}

// Two parts claiming 50 GB each on a disk with 71 GiB free: each would fit
// alone, both do not. The pull is refused as a whole before any part asks
// the CDN for a byte or lays out a file.
func TestPullSplitChecksSpaceForAllPartsAtOnce(t *testing.T) {
	hub := hftest.New(t)
	ref := addSplitParts(hub, 2, 16)
	for _, f := range ref.Files {
		hub.SetLinkedSize(splitRepo, f, 50_000_000_000)
	}
	client := &download.Client{Endpoint: hub.URL(), MaxRetries: -1,
		FreeSpace: func(string) (uint64, error) { return 71 << 30, nil }}
	st := Store{Root: t.TempDir()}

	_, err := Pull(context.Background(), st, ref, client, nil)
	if !errors.Is(err, download.ErrNoSpace) {
		t.Fatalf("err = %v, want ErrNoSpace for 2 x 50 GB on 71 GiB", err)
	}
	msg := err.Error()
	for _, want := range []string{"2 files together", "93.1 GiB", "71.0 GiB", "HF_HUB_CACHE"} {
		if !strings.Contains(msg, want) {
			t.Errorf("refusal %q does not name %q", msg, want)
		}
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("refusal is not one line: %q", msg)
	}
	if n := len(hub.Requests(hftest.CDN)); n != 0 {
		t.Errorf("%d CDN requests before the refusal", n)
	}
	partials, _ := filepath.Glob(filepath.Join(st.Root, "*", "blobs", "*.partial"))
	if len(partials) != 0 {
		t.Errorf("partial files laid out before the refusal: %v", partials)
	}
}

// What an interrupted pull kept of a part is not needed again: the whole
// pull's preflight asks for the rest, exactly.
func TestPullSpaceCheckCountsKeptBytes(t *testing.T) {
	const size = 2 << 20
	hub := hftest.New(t)
	ref := addSplitParts(hub, 2, size)
	var free uint64 = 1 << 40
	client := &download.Client{Endpoint: hub.URL(), MaxRetries: -1, Connections: 1, ChunkSize: 256 << 10,
		FreeSpace: func(string) (uint64, error) { return free, nil }}
	st := Store{Root: t.TempDir()}

	// Part 1 alone, cut after four ranges: an interrupted pull that kept 1 MiB or so.
	first := ref
	first.Files = ref.Files[:1]
	hub.Inject(hftest.Fault{Kind: hftest.Cut, After: 1000, Skip: 4, File: ref.Files[0]})
	if _, err := Pull(context.Background(), st, first, client, nil); err == nil {
		t.Fatal("the cut pull succeeded")
	}
	r, err := client.Resolve(context.Background(), splitRepo, "main", ref.Files[0])
	if err != nil {
		t.Fatal(err)
	}
	kept := download.Resumable(r, st.BlobPath(splitRepo, r.SHA256))
	if kept < 1<<20 {
		t.Fatalf("the cut pull kept %d bytes, want at least the 4 ranges before the cut", kept)
	}

	need := uint64(2*size) - uint64(kept)
	free = need - 1
	if _, err := Pull(context.Background(), st, ref, client, nil); !errors.Is(err, download.ErrNoSpace) {
		t.Fatalf("with 1 byte less than the %d still needed free: err = %v, want ErrNoSpace", need, err)
	}
	free = need
	if _, err := Pull(context.Background(), st, ref, client, nil); err != nil {
		t.Fatalf("with exactly the %d bytes still needed free: %v", need, err)
	}
}

// The parts of a split model share one connection budget: with
// Connections 3, never more than 3 ranges are in flight at the CDN across
// all parts, and the parts still download at the same time.
func TestPullSplitPartsShareOneConnectionBudget(t *testing.T) {
	hub := hftest.New(t)
	ref := addSplitParts(hub, 3, 2<<20)
	hub.SetRate(8 << 20) // a range lasts about 30 ms: long enough to overlap
	client := &download.Client{Endpoint: hub.URL(), Connections: 3, ChunkSize: 256 << 10, StallTimeout: time.Minute,
		FreeSpace: func(string) (uint64, error) { return 1 << 40, nil }}
	st := Store{Root: t.TempDir()}

	got, err := Pull(context.Background(), st, ref, client, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Downloaded != 3*2<<20 {
		t.Errorf("downloaded %d bytes, want all 3 parts", got.Downloaded)
	}
	if n := hub.MaxInFlight(); n > 3 {
		t.Errorf("%d CDN responses at once, want at most the budget of 3 across all parts", n)
	}
	if n := hub.MaxFilesInFlight(); n < 2 {
		t.Errorf("at most %d part(s) downloading at once, want the parts to overlap", n)
	}
}
