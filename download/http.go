package download

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

const maxRedirects = 10

// send issues one request. Redirects are followed by hand (when follow is
// set) so the token is attached only while the URL is on the endpoint host:
// net/http compares host names without ports and would forward it.
// A redirect response is returned as is when follow is false.
func (c *Client) send(ctx context.Context, method, rawURL string, hdr http.Header, follow bool) (*http.Response, error) {
	if c.Offline {
		return nil, ErrOffline
	}
	base, err := url.Parse(c.endpoint())
	if err != nil {
		return nil, fmt.Errorf("bad endpoint %q: %w", c.endpoint(), err)
	}
	hc := defaultHTTP
	if c.HTTP != nil {
		hc = c.HTTP
	}
	manual := *hc
	manual.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	for hop := 0; ; hop++ {
		req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
		if err != nil {
			return nil, err
		}
		for k, v := range hdr {
			req.Header[k] = v
		}
		if c.Token != "" && u.Host == base.Host {
			req.Header.Set("Authorization", "Bearer "+c.Token)
		}
		resp, err := manual.Do(req)
		if err != nil {
			return nil, err
		}
		if !follow || !isRedirect(resp.StatusCode) {
			return resp, nil
		}
		loc, err := resp.Location()
		drain(resp)
		if err != nil {
			return nil, fmt.Errorf("redirect from %s: %w", redact(u), err)
		}
		if hop >= maxRedirects {
			return nil, fmt.Errorf("%s: too many redirects", redact(u))
		}
		u = loc
	}
}

func isRedirect(code int) bool {
	switch code {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// drain reads a little of an unwanted body so the connection can be reused.
func drain(resp *http.Response) {
	io.CopyN(io.Discard, resp.Body, 64<<10)
	resp.Body.Close()
}

// redact drops the query, which on CDN URLs holds a signature.
func redact(u *url.URL) string {
	v := *u
	v.RawQuery = ""
	v.User = nil
	return v.String()
}

func statusError(resp *http.Response) *HTTPError {
	return &HTTPError{
		Status:     resp.StatusCode,
		URL:        redact(resp.Request.URL),
		RetryAfter: retryAfter(resp.Header.Get("Retry-After"), time.Now()),
	}
}

// maxRetryAfterSeconds keeps a parsed Retry-After in time.Duration's range
// (far above retryAfterMax, which backoff applies).
const maxRetryAfterSeconds = 1 << 31

// retryAfter parses delta-seconds or an HTTP date; 0 if absent or invalid.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	// Digits only (no sign), capped before multiplying: a huge number of
	// seconds once wrapped around to a negative or tiny wait.
	if s, err := strconv.ParseUint(v, 10, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		return time.Duration(min(s, maxRetryAfterSeconds)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// retryable marks an error as transient; after is the server's requested
// wait (Retry-After), 0 for none.
type retryable struct {
	err   error
	after time.Duration
}

func (e *retryable) Error() string { return e.err.Error() }
func (e *retryable) Unwrap() error { return e.err }

// classify wraps transient errors (transport failures, 5xx, 429) as retryable.
// Cancellation is never transient.
func classify(ctx context.Context, err error) error {
	if err == nil || ctx.Err() != nil || errors.Is(err, ErrOffline) {
		return err
	}
	var he *HTTPError
	if errors.As(err, &he) {
		if he.temporary() {
			return &retryable{err: err, after: he.RetryAfter}
		}
		return err
	}
	var r *retryable
	if errors.As(err, &r) {
		return err
	}
	// Anything else from the transport (reset, refused, EOF) may pass.
	return &retryable{err: err}
}
