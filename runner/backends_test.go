package runner

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/olm-dev/olm/synth"
)

func TestBackendLibrariesFollowGGMLNaming(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"libggml-cuda.so", "libggml-cuda-sm90.so", "libggml-vulkan.so", "libggml-base.so",
		"libggml-base.so.0", "libggml-cpu-haswell.so", "libggml-cuda.so.bak", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := backendLibraries(dir)
	slices.Sort(got)
	var want []string
	for _, f := range []string{"libggml-cuda-sm90.so", "libggml-cuda.so", "libggml-vulkan.so"} {
		want = append(want, filepath.Join(dir, f))
	}
	// The CPU backend is linked in (a second one would double-register) and ggml-base is
	// what backends link, not a backend.
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestLibraryDirs(t *testing.T) {
	t.Setenv(LibraryPathEnv, "/a"+string(os.PathListSeparator)+"/b")
	if got := libraryDirs(); !slices.Equal(got, []string{"/a", "/b"}) {
		t.Errorf("%s=/a:/b: got %v", LibraryPathEnv, got)
	}
	os.Unsetenv(LibraryPathEnv)
	got := libraryDirs()
	exe, _ := os.Executable()
	if len(got) != 1 || filepath.Base(got[0]) != "olm" || filepath.Base(filepath.Dir(got[0])) != "lib" ||
		filepath.Clean(filepath.Join(got[0], "..", "..", "bin")) != filepath.Join(filepath.Dir(filepath.Dir(exe)), "bin") {
		t.Errorf("default: got %v for executable %s, want ../lib/olm beside its folder", got, exe)
	}
}

// Backends are freed only once llama_free has returned (the pinned llama.cpp touches them
// after freeing them otherwise); this checks none is leaked, context after context.
func TestContextBackendsAreReleased(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tiny.gguf")
	spec, err := synth.Tiny("llama")
	if err != nil {
		t.Fatal(err)
	}
	if err := synth.Write(context.Background(), path, spec, nil); err != nil {
		t.Fatal(err)
	}
	m, err := LoadModel(context.Background(), path, ModelOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	// Sizes llama.cpp cannot take, or this machine cannot hold, fail at once.
	if _, err := m.NewContext(ContextOptions{Ctx: 1 << 32, Threads: 1}); err == nil || !strings.Contains(err.Error(), "at most") {
		t.Errorf("--ctx 2^32: %v", err)
	}
	before := heldBackends()
	for range 3 {
		c, err := m.NewContext(ContextOptions{Ctx: 64, Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		if heldBackends() <= before {
			t.Fatalf("a live context holds %d backends, as many as before it (%d): its CPU backend is not wrapped", heldBackends(), before)
		}
		c.Close()
		if n := heldBackends(); n != before {
			t.Fatalf("after Close %d backends are held, %d before the context", n, before)
		}
	}
}

func TestCheckKVFits(t *testing.T) {
	if err := checkKVFits(4096, 2<<30, 24<<30); err != nil {
		t.Errorf("2 GiB of KV on a 24 GiB machine: %v", err)
	}
	if err := checkKVFits(4096, 1<<30, 0); err != nil {
		t.Errorf("unknown memory must not refuse: %v", err)
	}
	err := checkKVFits(1<<30, 64<<30, 24<<30)
	if err == nil || !strings.Contains(err.Error(), "--ctx 1073741824") || !strings.Contains(err.Error(), "64.0 GiB") || !strings.Contains(err.Error(), "lower --ctx") {
		t.Errorf("64 GiB of KV on a 24 GiB machine: %v", err)
	}
}
