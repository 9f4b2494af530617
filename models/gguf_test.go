package models

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/olm-dev/olm/gguf"
)

// Whatever gguf-parser-go still raises on a file the check accepted becomes an error that
// names the file, never a crash of olm show.
func TestGuardParserTurnsPanicsIntoErrors(t *testing.T) {
	_, err := guardParser("/m/x.gguf", func() (Info, error) {
		panic(errors.New("gguf: uint64 overflow in Bytes nb[1]:\n4 * 4611686018427387904"))
	})
	if !errors.Is(err, gguf.ErrCorrupt) || !strings.Contains(err.Error(), "/m/x.gguf") ||
		!strings.Contains(err.Error(), "uint64 overflow") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("error %v", err)
	}
	info, err := guardParser("x", func() (Info, error) { return Info{Arch: "llama"}, nil })
	if err != nil || info.Arch != "llama" {
		t.Fatalf("no panic: %+v %v", info, err)
	}
}

// An existing local path wins over a Hugging Face repo name of the same form (bad/adir),
// with an error that says what is wrong with it; a bare catalog name stays a catalog name
// even with a directory of that name in the way.
func TestResolveLocalPathWins(t *testing.T) {
	r, _ := testResolver(t)
	dir := t.TempDir()
	t.Chdir(dir)
	for _, d := range []string{"bad/adir", "mistral"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(dir, "bad", "loop"), filepath.Join(dir, "bad", "loop")); err != nil { // a link to itself
		t.Fatal(err)
	}
	for in, want := range map[string]string{
		"bad/adir": "bad/adir: is a directory",
		"bad/loop": "symlink loop",
	} {
		if _, err := r.Resolve(context.Background(), in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", in, err, want)
		}
	}
	if ref, err := r.Resolve(context.Background(), "mistral"); err != nil || ref.Source != SourceCatalog {
		t.Errorf("mistral with a directory of that name: %+v %v", ref, err)
	}
}
