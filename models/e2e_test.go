package models

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/olm-dev/olm/download"
	"github.com/olm-dev/olm/download/hftest"
)

// TestPullEndToEnd runs resolve -> pull -> inspect -> list -> remove against
// the fake hub and the real download client.
func TestPullEndToEnd(t *testing.T) {
	const repo = "olm-dev/tiny-GGUF"
	dir := t.TempDir()
	hub := hftest.New(t)
	gguf := func(name string) []byte {
		p := filepath.Join(t.TempDir(), name)
		writeGGUF(t, p, tinyGGUF{name: name, chatTemplate: "{{ messages }}"})
		return readAll(t, p)
	}
	q4 := gguf("q4")
	hub.Add(repo, "tiny.Q4_K_M.gguf", q4)
	hub.Add(repo, "tiny.Q8_0.gguf", gguf("q8"))
	hub.Add(repo, "split/tiny-F16-00001-of-00002.gguf", gguf("p1"))
	hub.Add(repo, "split/tiny-F16-00002-of-00002.gguf", gguf("p2"))
	hub.AddSmall(repo, "README.md", []byte("# tiny"))
	client := &download.Client{Endpoint: hub.URL(), FreeSpace: func(string) (uint64, error) { return 1 << 40, nil }}

	cat, _ := LoadCatalog()
	env := Env{HubCache: filepath.Join(dir, "hub"), OlmHome: filepath.Join(dir, "olm")}
	r := Resolver{Catalog: cat, Env: env, Lister: client}
	ctx := context.Background()

	ref, err := r.Resolve(ctx, "hf.co/"+repo)
	if err != nil {
		t.Fatal(err)
	}
	if ref.Files[0] != "tiny.Q4_K_M.gguf" {
		t.Fatalf("default pick %v", ref.Files)
	}
	// Pretend the catalog knew an older upload of this file.
	ref.Expect = &File{Name: "tiny.Q4_K_M.gguf", SHA256: strings.Repeat("0", 64)}
	var phases []Phase
	got, err := Pull(ctx, env.Store(), ref, client, func(e Event) { phases = append(phases, e.Phase) })
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Warnings) != 1 || !strings.Contains(got.Warnings[0], "verifying against Hugging Face") {
		t.Errorf("warnings %q", got.Warnings)
	}
	commit := hub.Commit(repo)
	if got.Commit != commit {
		t.Errorf("commit %q, want %q", got.Commit, commit)
	}
	link := got.Paths[0]
	if tgt, _ := os.Readlink(link); tgt != "../../blobs/"+sha256Hex(q4) {
		t.Errorf("link %s -> %s", link, tgt)
	}
	if b := readAll(t, filepath.Join(env.Store().RepoDir(repo), "refs", "main")); string(b) != commit {
		t.Errorf("refs/main %q", b)
	}
	if !containsPhase(phases, PhaseDownload) || phases[len(phases)-1] != PhaseLinked {
		t.Errorf("phases %v", phases)
	}
	info, err := Inspect(link)
	if err != nil || info.Arch != "llama" || !info.HasChatTemplate() {
		t.Fatalf("inspect pulled: %+v %v", info, err)
	}
	blobs, _ := os.ReadDir(filepath.Join(env.Store().RepoDir(repo), "blobs"))
	if len(blobs) != 1 {
		t.Errorf("blobs dir holds %d entries, want only the verified blob", len(blobs))
	}

	// Split files come together and land in a nested snapshot folder.
	split, err := r.Resolve(ctx, "hf.co/"+repo+":F16")
	if err != nil || len(split.Files) != 2 {
		t.Fatalf("split resolve %+v %v", split, err)
	}
	if _, err := Pull(ctx, env.Store(), split, client, nil); err != nil {
		t.Fatal(err)
	}
	sinfo, err := Inspect(env.Store().SnapshotPath(repo, commit, split.Files[0]))
	if err != nil || sinfo.Params != 2*info.Params {
		t.Errorf("split inspect %+v %v (want both parts)", sinfo, err)
	}

	// Offline: the name still resolves from the cache and the file is found.
	off := Resolver{Catalog: cat, Env: env, Lister: &download.Client{Endpoint: hub.URL(), Offline: true}}
	oref, err := off.Resolve(ctx, "hf.co/"+repo)
	if err != nil || oref.Files[0] != "tiny.Q4_K_M.gguf" {
		t.Fatalf("offline resolve %+v %v", oref, err)
	}

	ls, _ := List(env, cat)
	if len(ls) != 2 {
		t.Errorf("list %+v", ls)
	}
	rm, err := Remove(env, ref)
	if err != nil || len(rm.Blobs) != 1 || rm.Freed != int64(len(q4)) {
		t.Fatalf("remove %+v %v", rm, err)
	}
	if _, err := env.Store().Lookup(repo, "main", "tiny.Q4_K_M.gguf"); err == nil {
		t.Error("still local after remove")
	}

	// Inspect the not-yet-pulled Q8_0 through the hub's resolve URL (302 to the CDN).
	rinfo, err := InspectRemote(ctx, hub.URL()+"/"+repo+"/resolve/main/tiny.Q8_0.gguf", RemoteOptions{TempDir: dir})
	if err != nil || rinfo.Params != info.Params || rinfo.EOS.Text != "</s>" {
		t.Fatalf("remote inspect %+v %v", rinfo, err)
	}
}

func containsPhase(ps []Phase, p Phase) bool {
	for _, x := range ps {
		if x == p {
			return true
		}
	}
	return false
}

// A pull that resumes an interrupted one reports only the bytes it fetched itself.
func TestPullResumedCountsOnlyNewBytes(t *testing.T) {
	const repo = "olm-dev/tiny-GGUF"
	hub := hftest.New(t)
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(i * 7)
	}
	hub.Add(repo, "m.gguf", data)
	client := &download.Client{Endpoint: hub.URL(), Connections: 1, ChunkSize: 256 << 10, MaxRetries: -1,
		FreeSpace: func(string) (uint64, error) { return 1 << 40, nil }}
	env := Env{HubCache: filepath.Join(t.TempDir(), "hub"), OlmHome: t.TempDir()}
	ref := Ref{Name: "hf.co/" + repo + ":m.gguf", Source: SourceHF, Repo: repo, Revision: "main", Files: []string{"m.gguf"}}
	ctx := context.Background()

	// Two chunks arrive, the third is cut after 1000 bytes and, with no retries, the pull fails.
	hub.Inject(hftest.Fault{Kind: hftest.Cut, After: 1000, Skip: 2})
	if _, err := Pull(ctx, env.Store(), ref, client, nil); err == nil {
		t.Fatal("the cut pull succeeded")
	}
	got, err := Pull(ctx, env.Store(), ref, client, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(len(data) - (512<<10 + 1000)); got.Downloaded != want {
		t.Errorf("Downloaded = %d, want %d (the file less what the first pull kept)", got.Downloaded, want)
	}
	if b := readAll(t, got.Paths[0]); string(b) != string(data) {
		t.Error("resumed file differs")
	}
}
