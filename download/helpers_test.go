package download

import (
	"bytes"
	"context"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/olm-dev/olm/download/hftest"
)

const testRepo = "olm-dev/tiny-GGUF"

// fakeClock returns from Sleep at once and records what was asked.
type fakeClock struct {
	mu     sync.Mutex
	sleeps []time.Duration
}

func (c *fakeClock) Now() time.Time { return time.Now() }

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	c.mu.Unlock()
	return ctx.Err()
}

func (c *fakeClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// randomBytes is incompressible test data, made quickly (a GiB in about a second).
func randomBytes(n int) []byte {
	r := rand.New(rand.NewPCG(uint64(n), 42))
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], r.Uint64())
		copy(b[i:], w[:])
	}
	return b
}

type env struct {
	t     *testing.T
	hub   *hftest.Hub
	clock *fakeClock
	c     *Client
	dir   string
}

func newEnv(t *testing.T) *env {
	hub := hftest.New(t)
	clk := &fakeClock{}
	return &env{t: t, hub: hub, clock: clk, dir: t.TempDir(), c: &Client{
		Endpoint:     hub.URL(),
		Clock:        clk,
		StallTimeout: 5 * time.Second, // stall tests lower it
		FreeSpace:    func(string) (uint64, error) { return 1 << 40, nil },
	}}
}

// resolve registers data as an LFS file and resolves it.
func (e *env) resolve(name string, data []byte) Remote {
	e.t.Helper()
	e.hub.Add(testRepo, name, data)
	r, err := e.c.Resolve(context.Background(), testRepo, "main", name)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

func (e *env) dst(name string) string { return filepath.Join(e.dir, "blobs", name) }

func assertFile(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: content differs (got %d bytes, want %d)", path, len(got), len(want))
	}
	for _, suffix := range []string{".partial", ".partial.json"} {
		if _, err := os.Stat(path + suffix); !os.IsNotExist(err) {
			t.Errorf("%s%s left behind (err=%v)", path, suffix, err)
		}
	}
}

func assertMissing(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s exists, want it gone (err=%v)", p, err)
		}
	}
}

func ranges(reqs []hftest.Request) []string {
	var out []string
	for _, r := range reqs {
		if r.Method == "GET" {
			out = append(out, r.Range)
		}
	}
	return out
}
