//go:build unix

package gguf

import (
	"os"
	"syscall"
)

// openNonBlocking opens path for reading without blocking: if a FIFO took the place of the
// file after Stat, open returns at once instead of waiting for a writer.
func openNonBlocking(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
