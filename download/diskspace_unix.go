//go:build unix

package download

import (
	"errors"
	"path/filepath"
	"syscall"
)

// statfsFree is the free space of the disk dir is (or will be) on: a dir
// not made yet (a pull's first blob of a repo) asks its nearest parent.
func statfsFree(dir string) (uint64, error) {
	for {
		var s syscall.Statfs_t
		err := syscall.Statfs(dir, &s)
		if err == nil {
			return uint64(s.Bavail) * uint64(s.Bsize), nil
		}
		parent := filepath.Dir(dir)
		if !errors.Is(err, syscall.ENOENT) || parent == dir {
			return 0, err
		}
		dir = parent
	}
}
