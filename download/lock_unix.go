//go:build unix

package download

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// lockFile takes an exclusive flock on path, waiting (cancellably) unless
// noWait. The holder's pid is written into the file for the error message
// of a second process. flock is per open file, so two Fetches in one
// process exclude each other too.
func lockFile(ctx context.Context, path string, noWait bool) (unlock func(), err error) {
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("lock: %w", err)
		}
		if err := flock(ctx, f, noWait); err != nil {
			return nil, err // flock closed f
		}
		// The previous holder may have removed the file after we opened it;
		// then our lock is on an orphan and we must lock the new file.
		if same(f, path) {
			f.Truncate(0)
			f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
			return func() {
				os.Remove(path) // while still locked, see same()
				f.Close()
			}, nil
		}
		f.Close()
	}
}

// flock locks f; on failure it closes f (or leaves that to the goroutine
// still waiting for the lock).
func flock(ctx context.Context, f *os.File, noWait bool) (err error) {
	handedOff := false
	defer func() {
		if err != nil && !handedOff {
			f.Close()
		}
	}()
	fd := int(f.Fd())
	err = syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB)
	if err == nil {
		return nil
	}
	if !errors.Is(err, syscall.EWOULDBLOCK) {
		return fmt.Errorf("lock %s: %w", f.Name(), err)
	}
	if noWait {
		b := make([]byte, 32)
		n, _ := f.ReadAt(b, 0)
		if pid := strings.TrimSpace(string(b[:n])); pid != "" {
			return fmt.Errorf("%w (pid %s)", ErrLocked, pid)
		}
		return ErrLocked
	}
	// A blocking flock cannot be interrupted; wait for it in a goroutine
	// and, if we gave up meanwhile, release the lock as soon as it comes.
	got := make(chan error, 1)
	go func() { got <- syscall.Flock(fd, syscall.LOCK_EX) }()
	select {
	case err := <-got:
		if err != nil {
			return fmt.Errorf("lock %s: %w", f.Name(), err)
		}
		return nil
	case <-ctx.Done():
		handedOff = true
		go func() {
			if <-got == nil {
				syscall.Flock(fd, syscall.LOCK_UN)
			}
			f.Close()
		}()
		return ctx.Err()
	}
}

func same(f *os.File, path string) bool {
	a, err1 := f.Stat()
	b, err2 := os.Stat(path)
	return err1 == nil && err2 == nil && os.SameFile(a, b)
}
