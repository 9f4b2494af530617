package download

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

var (
	// ErrOffline is returned by every call that would touch the network while
	// the client is offline (HF_HUB_OFFLINE=1 or Client.Offline).
	ErrOffline = errors.New("offline mode (HF_HUB_OFFLINE is set): network access disabled")
	// ErrUnauthorized means the hub refused the request: a gated or private
	// repo and a missing or insufficient HF_TOKEN.
	ErrUnauthorized = errors.New("access denied: gated or private repo (set HF_TOKEN, and accept the license on the model page)")
	// ErrNotFound means the repo, revision or file does not exist.
	ErrNotFound = errors.New("not found")
	// ErrLocked is returned with FetchOptions.NoWait when another process
	// holds the file's lock.
	ErrLocked = errors.New("being downloaded by another process")
	// ErrNoSpace is returned by the disk-space preflight.
	ErrNoSpace = errors.New("not enough disk space")
	// ErrChecksum is returned when the downloaded bytes do not hash to the
	// expected sha256. The bad data has been removed.
	ErrChecksum = errors.New("sha256 mismatch")
	// ErrUnsafeName is returned by List for a file name that could escape the
	// destination directory.
	ErrUnsafeName = errors.New("unsafe file name")
)

// HTTPError is an unexpected HTTP status. It unwraps to ErrUnauthorized or
// ErrNotFound where those apply, so callers can use errors.Is.
type HTTPError struct {
	Status int
	URL    string // without query string: CDN URLs carry signatures
	// RetryAfter is the server's Retry-After, if any.
	RetryAfter time.Duration
}

func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("%s: HTTP %d %s", e.URL, e.Status, http.StatusText(e.Status))
	if s := e.Unwrap(); s != nil {
		msg += ": " + s.Error()
	}
	return msg
}

func (e *HTTPError) Unwrap() error {
	switch e.Status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return ErrUnauthorized
	case http.StatusNotFound:
		return ErrNotFound
	}
	return nil
}

// temporary reports whether a request that got this status may succeed later.
func (e *HTTPError) temporary() bool {
	return e.Status >= 500 || e.Status == http.StatusTooManyRequests || e.Status == http.StatusRequestTimeout
}
