package download

import (
	"context"
	"net/http"
	"os"
	"strings"
	"time"
)

// DefaultEndpoint is the Hugging Face hub used when HF_ENDPOINT is unset.
const DefaultEndpoint = "https://huggingface.co"

// Client talks to a Hugging Face compatible hub. The zero value is usable
// (it talks to DefaultEndpoint with no token); NewFromEnv reads the usual
// HF_* variables. Fields are read-only once calls are in flight.
type Client struct {
	// Endpoint is the hub's base URL, e.g. https://huggingface.co or a mirror.
	Endpoint string
	// Token is sent as "Authorization: Bearer" to the Endpoint host only,
	// never to the CDN a download is redirected to.
	Token string
	// Offline makes every network call fail with ErrOffline.
	Offline bool

	// HTTP is the client used for all requests; nil means a default one.
	// Its CheckRedirect is ignored: redirects are followed by hand.
	HTTP *http.Client
	// Clock is the time source for backoff and rates; nil means real time.
	Clock Clock
	// FreeSpace reports free bytes in dir; nil means statfs. A test seam.
	FreeSpace func(dir string) (uint64, error)

	// Connections is the most parallel ranged requests per file (and per
	// Budget, which a pull of several files shares); 0 means
	// DefaultConnections. A file gets fewer when it has fewer chunks.
	Connections int
	// ChunkSize overrides the size of the ranges a file is split into
	// (0: automatic). Mostly for tests.
	ChunkSize int64
	// StallTimeout is how long a response may send nothing before the request
	// is dropped and retried; 0 means 30s.
	StallTimeout time.Duration
	// MaxRetries is how many times a failing request (5xx, 429, reset,
	// stall, short body) is retried without progress; 0 means 6, <0 none.
	MaxRetries int

	// OnWait, if set, hears of each wait of 2 s or more before a Resolve or
	// List call is retried (what: the file or repo; msg: how long and why),
	// so a Retry-After of minutes does not look like a hang. Fetch reports
	// its waits as PhaseWaiting progress events instead.
	OnWait func(what, msg string)

	// Test seams: how often progress is persisted while bytes arrive
	// (0: checkpointEvery), and a call after each persisted state.
	checkpointEvery time.Duration
	onCheckpoint    func(*state)
}

// NewFromEnv returns a client configured from HF_ENDPOINT, HF_TOKEN and
// HF_HUB_OFFLINE.
func NewFromEnv() *Client {
	c := &Client{
		Endpoint: os.Getenv("HF_ENDPOINT"),
		Token:    os.Getenv("HF_TOKEN"),
	}
	switch strings.ToLower(os.Getenv("HF_HUB_OFFLINE")) {
	case "1", "true", "yes", "on":
		c.Offline = true
	}
	return c
}

// Clock is the seam for time: tests inject one whose Sleep returns at once
// and records the requested durations.
type Clock interface {
	Now() time.Time
	// Sleep waits for d or until ctx is done, returning ctx's error then.
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *Client) endpoint() string {
	if c.Endpoint == "" {
		return DefaultEndpoint
	}
	return strings.TrimRight(c.Endpoint, "/")
}

func (c *Client) clock() Clock {
	if c.Clock == nil {
		return realClock{}
	}
	return c.Clock
}

func (c *Client) stallTimeout() time.Duration {
	if c.StallTimeout <= 0 {
		return 30 * time.Second
	}
	return c.StallTimeout
}

func (c *Client) maxRetries() int {
	switch {
	case c.MaxRetries == 0:
		return 6
	case c.MaxRetries < 0:
		return 0
	}
	return c.MaxRetries
}

// DefaultConnections is how many ranged requests a pull keeps in flight
// when not told otherwise: a CDN that caps each connection's rate is then
// used at several times that cap, as download accelerators do.
const DefaultConnections = 8

func (c *Client) connections() int {
	if c.Connections > 0 {
		return c.Connections
	}
	return DefaultConnections
}

var defaultHTTP = &http.Client{Transport: defaultTransport()}

func defaultTransport() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 16 // parallel chunks reuse their connections
	return t
}

func (c *Client) freeSpace(dir string) (uint64, error) {
	if c.FreeSpace != nil {
		return c.FreeSpace(dir)
	}
	return statfsFree(dir)
}
