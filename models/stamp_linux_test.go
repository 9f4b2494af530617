package models

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"
)

// A pulled blob is stamped, so the next pull neither hashes nor fetches it; a blob
// written since, or olm pull --verify, gets hashed again.
func TestPullTrustsStampedBlobUntilItChanges(t *testing.T) {
	st, hub, ref := pullFixture(t)
	ctx := context.Background()
	if _, err := Pull(ctx, st, ref, hub, nil); err != nil {
		t.Fatal(err)
	}
	sum := sha256Hex(hub.files["m.Q4_K_M.gguf"])
	blob := st.BlobPath("o/r", sum)
	if !stampValid(blob, sum) {
		t.Fatal("a fetched blob carries no verification stamp")
	}
	pull := func(s Store) []Phase {
		t.Helper()
		var phases []Phase
		if _, err := Pull(ctx, s, ref, hub, func(e Event) { phases = append(phases, e.Phase) }); err != nil {
			t.Fatal(err)
		}
		return phases
	}
	if ph := pull(st); slices.Contains(ph, PhaseVerify) || !slices.Contains(ph, PhaseCached) || hub.fetches != 1 {
		t.Errorf("stamped blob: phases %v, %d fetches; want cached without hashing", ph, hub.fetches)
	}
	reverify := st
	reverify.Reverify = true
	if ph := pull(reverify); !slices.Contains(ph, PhaseVerify) || hub.fetches != 1 {
		t.Errorf("--verify: phases %v, %d fetches; want a hash of the cached blob", ph, hub.fetches)
	}

	// Same size, other bytes, a new mtime: the stamp no longer vouches for it.
	if err := os.WriteFile(blob, []byte("GGUF weights XX"), 0o644); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(blob, later, later); err != nil {
		t.Fatal(err)
	}
	if ph := pull(st); !slices.Contains(ph, PhaseVerify) || hub.fetches != 2 {
		t.Errorf("rewritten blob: phases %v, %d fetches; want a hash, then a fetch", ph, hub.fetches)
	}
	if string(readAll(t, blob)) != "GGUF weights q4" {
		t.Error("the damaged blob was kept")
	}
}
