// Package realmodel finds the real trained test model, stories260K.gguf, that the project
// keeps beside the repository in ../shared/models (never inside it). Tests that need text
// a person would call right use it; on a clone without ../shared they skip, saying what is
// missing, and under CI (CI=true) a missing file fails the test, so CI always runs them.
package realmodel

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// SHA256 of the file described in ../shared/models/README.md.
const SHA256 = "270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d"

// Stories260K returns the path of stories260K.gguf, or skips (fails under CI) without it.
func Stories260K(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	path := filepath.Join(root, "..", "shared", "models", "stories260K.gguf")
	if _, err := os.Stat(path); err != nil {
		msg := "the real test model ../shared/models/stories260K.gguf is missing beside the repository (" + err.Error() + ")"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + "; CI must run the tests that read it")
		}
		t.Skip(msg + "; these tests need it")
	}
	return path
}
