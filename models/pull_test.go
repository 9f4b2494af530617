package models

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func pullFixture(t *testing.T) (Store, *fakeHub, Ref) {
	t.Helper()
	st := Store{Root: t.TempDir()}
	hub := &fakeHub{commit: strings.Repeat("1", 40), files: map[string][]byte{
		"m.Q4_K_M.gguf": []byte("GGUF weights q4"),
		"m.Q8_0.gguf":   []byte("GGUF weights q8"),
	}}
	ref := Ref{Name: "hf.co/o/r:m.Q4_K_M.gguf", Source: SourceHF, Repo: "o/r", Revision: "main", Files: []string{"m.Q4_K_M.gguf"}}
	return st, hub, ref
}

func TestPullLayoutMatchesHuggingFaceHub(t *testing.T) {
	st, hub, ref := pullFixture(t)
	var phases []Phase
	got, err := Pull(context.Background(), st, ref, hub, func(e Event) { phases = append(phases, e.Phase) })
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256Hex(hub.files["m.Q4_K_M.gguf"])
	repoDir := filepath.Join(st.Root, "models--o--r")
	link := filepath.Join(repoDir, "snapshots", hub.commit, "m.Q4_K_M.gguf")
	target, err := os.Readlink(link)
	if err != nil {
		t.Fatal(err)
	}
	if target != "../../blobs/"+sum {
		t.Errorf("link target %q, want relative ../../blobs/%s", target, sum)
	}
	if b := readAll(t, filepath.Join(repoDir, "refs", "main")); string(b) != hub.commit {
		t.Errorf("refs/main = %q, want the bare commit", b)
	}
	if string(readAll(t, link)) != "GGUF weights q4" {
		t.Error("snapshot does not read the blob")
	}
	if len(got.Paths) != 1 || got.Paths[0] != link || got.Commit != hub.commit || got.Downloaded != 15 {
		t.Errorf("pulled %+v", got)
	}
	if ents, _ := os.ReadDir(filepath.Join(repoDir, "blobs")); len(ents) != 1 || ents[0].Name() != sum {
		t.Errorf("blobs dir %v, want only %s", ents, sum)
	}
	if p, err := st.Lookup("o/r", "main", "m.Q4_K_M.gguf"); err != nil || p != link {
		t.Errorf("Lookup = %q, %v", p, err)
	}
	if phases[0] != PhaseResolve || phases[len(phases)-1] != PhaseLinked {
		t.Errorf("phases %v", phases)
	}

	// Second pull: blob verified in place, nothing fetched.
	got, err = Pull(context.Background(), st, ref, hub, nil)
	if err != nil || hub.fetches != 1 || got.Downloaded != 0 {
		t.Errorf("re-pull fetched again: %d fetches, %+v, %v", hub.fetches, got, err)
	}
}

func TestPullNestedFileLinksRelative(t *testing.T) {
	st, hub, ref := pullFixture(t)
	hub.files["sub/dir/m-00001-of-00001.gguf"] = []byte("GGUF part")
	ref.Files = []string{"sub/dir/m-00001-of-00001.gguf"}
	if _, err := Pull(context.Background(), st, ref, hub, nil); err != nil {
		t.Fatal(err)
	}
	link := st.SnapshotPath("o/r", hub.commit, "sub/dir/m-00001-of-00001.gguf")
	target, _ := os.Readlink(link)
	if !strings.HasPrefix(target, "../../../../blobs/") {
		t.Errorf("nested target %q", target)
	}
	if string(readAll(t, link)) != "GGUF part" {
		t.Error("nested link broken")
	}
}

func TestPullCatalogHashMismatchTrustsHF(t *testing.T) {
	st, hub, ref := pullFixture(t)
	ref.Expect = &File{Name: "m.Q4_K_M.gguf", Size: 99, SHA256: strings.Repeat("f", 64)}
	var warned []string
	got, err := Pull(context.Background(), st, ref, hub, func(e Event) {
		if e.Phase == PhaseWarning {
			warned = append(warned, e.Message)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Warnings) != 2 || len(warned) != 2 || !strings.Contains(got.Warnings[0], "verifying against Hugging Face") {
		t.Errorf("warnings %q", got.Warnings)
	}
}

func TestPullReplacesDamagedBlob(t *testing.T) {
	st, hub, ref := pullFixture(t)
	sum := sha256Hex(hub.files["m.Q4_K_M.gguf"])
	os.MkdirAll(st.BlobPath("o/r", ""), 0o755)
	os.WriteFile(st.BlobPath("o/r", sum), []byte("GGUF weights XX"), 0o644) // right size, wrong bytes
	got, err := Pull(context.Background(), st, ref, hub, nil)
	if err != nil || hub.fetches != 1 || len(got.Warnings) != 1 {
		t.Fatalf("got %+v, %d fetches, %v", got, hub.fetches, err)
	}
	if string(readAll(t, st.BlobPath("o/r", sum))) != "GGUF weights q4" {
		t.Error("damaged blob kept")
	}
}

func TestPullOfflineUsesCache(t *testing.T) {
	st, hub, ref := pullFixture(t)
	if _, err := Pull(context.Background(), st, ref, hub, nil); err != nil {
		t.Fatal(err)
	}
	hub.offline = true
	got, err := Pull(context.Background(), st, ref, hub, nil)
	if err != nil || len(got.Paths) != 1 || len(got.Warnings) != 1 {
		t.Fatalf("offline pull: %+v %v", got, err)
	}
	ref.Files = []string{"m.Q8_0.gguf"}
	if _, err := Pull(context.Background(), st, ref, hub, nil); err == nil {
		t.Fatal("offline pull of an uncached file succeeded")
	}
}

func TestRemoveKeepsSharedBlobs(t *testing.T) {
	st, hub, ref := pullFixture(t)
	if _, err := Pull(context.Background(), st, ref, hub, nil); err != nil {
		t.Fatal(err)
	}
	// A second revision links the same blob.
	oldCommit := hub.commit
	hub.commit = strings.Repeat("2", 40)
	ref2 := ref
	ref2.Revision = "v2"
	if _, err := Pull(context.Background(), st, ref2, hub, nil); err != nil {
		t.Fatal(err)
	}
	if hub.fetches != 1 {
		t.Fatalf("shared blob fetched twice")
	}
	sum := sha256Hex(hub.files["m.Q4_K_M.gguf"])
	blob := st.BlobPath("o/r", sum)

	r, err := st.Remove("o/r", "main", ref.Files)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Links) != 1 || len(r.Blobs) != 0 || len(r.Kept) != 1 {
		t.Errorf("removed %+v", r)
	}
	if _, err := os.Stat(blob); err != nil {
		t.Error("shared blob deleted")
	}
	if _, err := os.Stat(filepath.Join(st.RepoDir("o/r"), "snapshots", oldCommit)); !os.IsNotExist(err) {
		t.Error("empty snapshot dir kept")
	}
	if _, err := os.Stat(filepath.Join(st.RepoDir("o/r"), "refs", "main")); !os.IsNotExist(err) {
		t.Error("ref to removed snapshot kept")
	}

	r, err = Remove(Env{HubCache: st.Root}, ref2)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Blobs) != 1 || r.Freed != 15 {
		t.Errorf("removed %+v", r)
	}
	if _, err := os.Stat(st.RepoDir("o/r")); !os.IsNotExist(err) {
		t.Error("empty repo dir kept")
	}
	if _, err := st.Remove("o/r", "v2", ref.Files); err == nil {
		t.Error("removing twice succeeded")
	}
}

func TestRemoveRefusesOthersFiles(t *testing.T) {
	for _, ref := range []Ref{{Name: "ollama:llama2:latest", Source: SourceOllama}, {Name: "/x.gguf", Source: SourceFile}} {
		if _, err := Remove(Env{}, ref); err == nil {
			t.Errorf("%s: removed", ref.Name)
		}
	}
}
