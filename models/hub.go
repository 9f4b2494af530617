package models

import (
	"context"
	"sync"
	"time"

	"github.com/olm-dev/olm/download"
)

// Lister lists a repo's files; resolving hf.co names without a file needs it.
type Lister interface {
	List(ctx context.Context, repo, rev string) ([]download.RemoteFile, error)
}

// Hub is the part of the Hugging Face client that Pull needs;
// *download.Client implements it, tests may fake it.
type Hub interface {
	Lister
	// Resolve asks for a file's size, sha256 and commit.
	Resolve(ctx context.Context, repo, rev, file string) (download.Remote, error)
	// Fetch downloads to dst (resuming partials beside it) and makes dst
	// appear only once size and sha256 are verified.
	Fetch(ctx context.Context, r download.Remote, dst string, opts download.FetchOptions) error
	// CheckSpace fails (wrapping download.ErrNoSpace) when dir has fewer
	// than need bytes free: a pull checks all its files at once with it.
	CheckSpace(dir string, need int64) error
}

var _ Hub = (*download.Client)(nil)

// Progress receives pull events; it may be nil. The cmd layer renders them.
type Progress func(Event)

// Event is one step of a pull.
type Event struct {
	File    string // repo path
	Phase   Phase
	Done    int64 // bytes so far (download, verify)
	Total   int64 // file size
	Rate    float64
	ETA     time.Duration
	Message string // PhaseWarning and PhaseWait text
}

// Phase names the steps of a pull, in order.
type Phase string

const (
	PhaseResolve  Phase = "resolve"  // asking HF for size, sha256, commit
	PhaseCached   Phase = "cached"   // the blob was already there and verified
	PhaseDownload Phase = "download" // bytes arriving
	PhaseVerify   Phase = "verify"   // hashing a blob (found on disk, or just downloaded)
	PhaseLinked   Phase = "linked"   // snapshot link and ref written
	PhaseWarning  Phase = "warning"  // something the user should know, e.g. a stale catalog hash
	PhaseWait     Phase = "wait"     // a download waits before retrying (Message says how long and why)
)

func (p Progress) emit(e Event) {
	if p != nil {
		p(e)
	}
}

// serialised returns p with calls made one at a time under mu.
func (p Progress) serialised(mu *sync.Mutex) Progress {
	if p == nil {
		return nil
	}
	return func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		p(e)
	}
}

// fetchProgress turns download's events into pull events.
func (p Progress) fetchProgress(file string) func(download.Progress) {
	if p == nil {
		return nil
	}
	return func(d download.Progress) {
		ph := PhaseDownload
		switch d.Phase {
		case download.PhaseVerifying:
			ph = PhaseVerify
		case download.PhaseWaiting:
			ph = PhaseWait
		}
		if d.Phase == download.PhaseDone {
			return // Pull reports PhaseLinked once the snapshot exists
		}
		p(Event{File: file, Phase: ph, Done: d.Done, Total: d.Total, Rate: d.Rate, ETA: d.ETA, Message: d.Message})
	}
}
