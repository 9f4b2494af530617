//go:build unix

package download

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// The preflight of a pull that has not made its directory yet (a repo's
// first blob) reads the free space of the disk the directory will be on:
// an unreadable free space passes, so an absurd size would be let through.
func TestCheckSpaceOfDirNotMadeYet(t *testing.T) {
	c := &Client{} // the real statfs
	dir := filepath.Join(t.TempDir(), "models--o--r", "blobs")
	err := c.CheckSpace(dir, math.MaxInt64)
	if !errors.Is(err, ErrNoSpace) {
		t.Fatalf("CheckSpace(%s, 8 EiB) = %v, want ErrNoSpace", dir, err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the check made %s (err=%v)", dir, err)
	}
	if err := c.CheckSpace(dir, 1); err != nil {
		t.Errorf("CheckSpace(%s, 1 byte) = %v", dir, err)
	}
}
