package download

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
)

// FetchOptions tune one Fetch.
type FetchOptions struct {
	// Progress, if set, receives events; calls are serialised.
	Progress func(Progress)
	// NoWait makes Fetch fail with ErrLocked instead of waiting when another
	// process (or Fetch) is downloading the same dst.
	NoWait bool
	// Connections overrides Client.Connections for this file.
	Connections int
	// Budget, if set, is shared by several Fetches (the files of one pull):
	// together they keep at most its size of requests in flight.
	Budget *Budget
	// Result, if set, receives what this Fetch did.
	Result *FetchResult
}

// FetchResult says where a Fetch's bytes came from.
type FetchResult struct {
	// Downloaded is the bytes received over the network by this call; 0
	// when dst was already complete (e.g. another process finished it
	// while this one waited for the lock).
	Downloaded int64
	// Resumed is the bytes an interrupted attempt left that were kept
	// (and hashed again from disk).
	Resumed int64
}

// Fetch downloads remote into dst, resuming from dst.partial and
// dst.partial.json if an earlier attempt left them. The sha256 (when known)
// and size are verified before dst appears; dst is never unverified data.
// An existing dst of the right size is taken as complete, since only
// verified files are renamed into place. On cancellation the partial data
// is kept and the error wraps context.Canceled.
func (c *Client) Fetch(ctx context.Context, r Remote, dst string, opts FetchOptions) error {
	name := r.File
	if name == "" {
		name = filepath.Base(dst)
	}
	if err := c.fetch(ctx, r, dst, name, opts); err != nil {
		return fmt.Errorf("fetch %s: %w", name, err)
	}
	return nil
}

func (c *Client) fetch(ctx context.Context, r Remote, dst, name string, opts FetchOptions) error {
	if r.Size < 0 || r.URL == "" {
		return errors.New("remote is not resolved (no size or URL)")
	}
	if opts.Result != nil {
		*opts.Result = FetchResult{}
	}
	rep := newReporter(c.clock(), name, r.Size, opts.Progress)

	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	unlock, err := lockFile(ctx, dst+".lock", opts.NoWait)
	if err != nil {
		return err
	}
	defer unlock()

	if fi, err := os.Stat(dst); err == nil && fi.Mode().IsRegular() && fi.Size() == r.Size {
		rep.emit(PhaseDone, r.Size)
		return nil
	}
	if c.Offline {
		return ErrOffline
	}

	f := &fetcher{c: c, r: r, name: name, dst: dst, rep: rep, conns: c.connections(), budget: opts.Budget}
	if opts.Connections > 0 {
		f.conns = opts.Connections
	}
	if f.budget == nil {
		f.budget = NewBudget(f.conns)
	}
	f.conns = min(f.conns, f.budget.sizeFor(c))
	err = f.run(ctx)
	if opts.Result != nil {
		opts.Result.Downloaded = f.rep.received.Load()
		opts.Result.Resumed = f.resumed
	}
	return err
}

// fetcher is the state of one Fetch while it holds the lock.
type fetcher struct {
	c     *Client
	r     Remote
	name  string
	dst   string
	conns int
	rep   *reporter
	// budget caps requests in flight across the Fetches sharing it.
	budget *Budget
	// resumed is what an earlier attempt left and this one kept.
	resumed int64

	file *os.File
	// hash is nil when no sha256 is known. While downloading only the
	// sink touches it, afterwards only run and finish.
	hash *prefixHasher

	mu sync.Mutex // guards st and firstOpen; during a download only the sink writes Done
	st *state
	// firstOpen is the index of the first incomplete chunk: chunks only grow,
	// so the frontier is found without scanning thousands of chunks per block.
	firstOpen int
}

func (f *fetcher) partial() string   { return partialPath(f.dst) }
func (f *fetcher) statePath() string { return statePath(f.dst) }

// partialPath and statePath are where a Fetch to dst keeps its bytes and its progress.
func partialPath(dst string) string { return dst + ".partial" }
func statePath(dst string) string   { return dst + ".partial.json" }

func (f *fetcher) run(ctx context.Context) error {
	if err := f.open(); err != nil {
		return err
	}
	defer f.file.Close()

	for {
		err := f.download(ctx)
		if errors.Is(err, errNoRange) && !f.st.NoRange {
			// The server ignores Range: start over with one stream from 0.
			f.restart(true)
			continue
		}
		if err != nil {
			f.checkpoint()
			return err
		}
		break
	}
	return f.finish()
}

// open loads a matching saved state or lays out a fresh one, after the
// disk-space preflight: nothing is allocated for a size the disk cannot
// hold, however large the hub claims the file is.
func (f *fetcher) open() error {
	st, err := loadState(f.statePath())
	fi, ferr := os.Stat(f.partial())
	resume := err == nil && ferr == nil && st.matches(f.r) && fi.Size() == f.r.Size
	var kept int64
	if resume {
		kept = st.done()
	}
	if err := f.preflight(f.r.Size - kept); err != nil {
		return err
	}
	if resume {
		f.st, f.resumed = st, kept
	} else {
		f.st = newState(f.r, f.conns, f.c.ChunkSize)
	}
	file, err := os.OpenFile(f.partial(), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	f.file = file
	// Sparse file of the final size: chunks write at their offsets.
	if err := file.Truncate(f.r.Size); err != nil {
		return err
	}
	f.initHash()
	return nil
}

// initHash starts the hash at byte 0, also on a resume: bytes kept from an
// earlier attempt are read back from the file (while the rest downloads),
// so what is hashed is what the file holds, even if it was changed on
// disk meanwhile. A saved hash state would vouch for bytes nobody read.
func (f *fetcher) initHash() {
	f.hash = nil
	if f.r.SHA256 != "" {
		f.hash = newPrefixHasher(f.file)
	}
}

// restart throws away progress (changed server behaviour or bad data).
func (f *fetcher) restart(noRange bool) {
	f.mu.Lock()
	f.st, f.firstOpen = newState(f.r, 1, 0), 0
	f.st.NoRange = noRange
	f.mu.Unlock()
	f.initHash()
}

func (f *fetcher) preflight(need int64) error { return f.c.CheckSpace(filepath.Dir(f.dst), need) }

// CheckSpace is the disk-space preflight: it fails with ErrNoSpace, in one
// line naming both sizes and the fix, when dir has fewer than need bytes
// free. Free space that cannot be read passes (the writes find out). Fetch
// checks its own file; a caller fetching several files to one disk at once
// checks their sum first, since each sparse .partial takes no space until
// written and every file would pass alone.
func (c *Client) CheckSpace(dir string, need int64) error {
	if need <= 0 {
		return nil
	}
	free, err := c.freeSpace(dir)
	if err != nil {
		return nil // unknown: let the writes find out
	}
	if uint64(need) > free {
		return fmt.Errorf("%w in %s: need %s more (%d bytes), %s free (%d bytes): free some space there, or download to a disk with room",
			ErrNoSpace, dir, HumanBytes(need), need, HumanBytes(int64(min(free, math.MaxInt64))), free)
	}
	return nil
}

func (f *fetcher) doneBytes() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st.done()
}

// frontier is the end of the contiguous downloaded prefix.
func (f *fetcher) frontier() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.frontierLocked()
}

func (f *fetcher) frontierLocked() int64 {
	cs := f.st.Chunks
	for f.firstOpen < len(cs) && cs[f.firstOpen].complete() {
		f.firstOpen++
	}
	if f.firstOpen == len(cs) {
		return f.st.Size
	}
	return cs[f.firstOpen].Offset + cs[f.firstOpen].Done
}

// finish verifies and moves the file into place, or deletes bad data.
func (f *fetcher) finish() error {
	f.rep.emit(PhaseVerifying, f.r.Size)
	if f.hash != nil {
		// Only bytes written ahead of the prefix by other connections
		// are left; with one connection there are none.
		if err := f.hash.catchUp(f.r.Size); err != nil {
			return err
		}
		if _, got := f.hash.sum(); got != f.r.SHA256 {
			f.file.Close()
			os.Remove(f.partial())
			os.Remove(f.statePath())
			kept := ""
			if f.resumed > 0 {
				kept = fmt.Sprintf(", %s of it kept from an interrupted download", HumanBytes(f.resumed))
			}
			return fmt.Errorf("%w: %s: expected %s, got %s (bad data removed%s: pull again to download it afresh)",
				ErrChecksum, f.name, f.r.SHA256, got, kept)
		}
	}
	if fi, err := f.file.Stat(); err != nil || fi.Size() != f.r.Size {
		return fmt.Errorf("partial file has wrong size (want %d)", f.r.Size)
	}
	// The one full fsync: the rename must not outlive the data on a crash.
	if err := f.file.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", f.partial(), err)
	}
	if err := f.file.Close(); err != nil {
		return fmt.Errorf("close %s: %w", f.partial(), err)
	}
	if err := os.Rename(f.partial(), f.dst); err != nil {
		return err
	}
	syncDir(filepath.Dir(f.dst))
	os.Remove(f.statePath())
	f.rep.emit(PhaseDone, f.r.Size)
	return nil
}

// syncDir makes a rename durable; errors are ignored (not all systems allow it).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
