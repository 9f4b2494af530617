package benchout

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestSaveReadsBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "base.json")
	rows := sampleRows()
	if err := Save(path, rows); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := Read(f)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, rows) {
		t.Errorf("saved rows differ after reading back")
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644 so results can be shared", st.Mode().Perm())
	}
}

func TestSaveFailureKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "base.json")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	rows := sampleRows()
	rows[2].AvgTs = math.NaN() // JSON cannot hold it: the save must fail whole
	if err := Save(path, rows); err == nil {
		t.Fatal("want an error for a NaN")
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Errorf("old file changed to %q", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("leftover files: %v", entries)
	}
	// A rename that fails (the target is a non-empty directory) must not
	// leave the temporary file behind.
	blocked := filepath.Join(dir, "blocked")
	if err := os.MkdirAll(filepath.Join(blocked, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Save(blocked, sampleRows()); err == nil {
		t.Error("want an error saving over a directory")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("leftover files after a failed rename: %v", entries)
	}
	if err := Save(filepath.Join(dir, "missing", "base.json"), sampleRows()); err == nil {
		t.Error("want an error for a missing directory")
	}
}
