//go:build linux && !arm

package download

import (
	"os"
	"syscall"
)

// startWriteback asks the kernel to begin writing [off, off+n) to disk
// without waiting, so the final fsync finds little left to do.
// syncFileRangeWrite is SYNC_FILE_RANGE_WRITE (linux/fs.h); package
// syscall has the call but not the flag.
const syncFileRangeWrite = 2

func startWriteback(f *os.File, off, n int64) {
	syscall.SyncFileRange(int(f.Fd()), off, n, syncFileRangeWrite)
}
