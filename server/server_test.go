package server

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// blockingLibrary resolves every name to a missing file, after release is closed: enough
// to hold a preload in progress.
type blockingLibrary struct{ release chan struct{} }

func (b blockingLibrary) Resolve(ctx context.Context, name string, pull bool) (Resolved, error) {
	select {
	case <-b.release:
	case <-ctx.Done():
		return Resolved{}, ctx.Err()
	}
	return Resolved{}, errors.Join(ErrUnknownModel, errors.New(name))
}
func (blockingLibrary) List() ([]LocalModel, error)                            { return nil, nil }
func (blockingLibrary) Pull(context.Context, string, func(PullProgress)) error { return nil }
func (blockingLibrary) Delete(string) error                                    { return nil }

func newTest(t *testing.T, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	if cfg.Library == nil {
		cfg.Library = blockingLibrary{release: closed()}
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(func() { hs.Close(); s.Close() })
	return s, hs
}

func closed() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}

func do(t *testing.T, req *http.Request) (int, string, http.Header) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestHealthIs503WhilePreloading(t *testing.T) {
	lib := blockingLibrary{release: make(chan struct{})}
	s, hs := newTest(t, Config{Library: lib, Preload: []string{"m"}})
	s.StartPreload(context.Background())
	req, _ := http.NewRequest("GET", hs.URL+"/health", nil)
	if code, body, _ := do(t, req); code != 503 || !strings.Contains(body, "loading") {
		t.Fatalf("during preload: %d %s", code, body)
	}
	close(lib.release)
	for { // the preload ends (it fails: the library knows no model) and health turns 200
		req, _ := http.NewRequest("GET", hs.URL+"/health", nil)
		if code, _, _ := do(t, req); code == 200 {
			break
		}
	}
}

func TestBodyLimitIs413(t *testing.T) {
	_, hs := newTest(t, Config{MaxBody: 1024})
	req, _ := http.NewRequest("POST", hs.URL+"/v1/chat/completions", strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"`+strings.Repeat("x", 4096)+`"}]}`))
	code, body, _ := do(t, req)
	if code != 413 || !strings.Contains(body, "over 1024 bytes") || !strings.Contains(body, `"error"`) {
		t.Fatalf("%d %s", code, body)
	}
}

func TestCORSAllowsLocalhostOnly(t *testing.T) {
	_, hs := newTest(t, Config{Origins: []string{"https://app.example"}})
	for _, c := range []struct {
		origin string
		code   int
	}{{"http://localhost:3000", 200}, {"http://127.0.0.1:8080", 200}, {"https://app.example", 200}, {"https://evil.example", 403}, {"", 200}} {
		req, _ := http.NewRequest("GET", hs.URL+"/api/version", nil)
		if c.origin != "" {
			req.Header.Set("Origin", c.origin)
		}
		code, body, h := do(t, req)
		if code != c.code {
			t.Errorf("origin %q: %d %s, want %d", c.origin, code, body, c.code)
		}
		if c.code == 200 && c.origin != "" && h.Get("Access-Control-Allow-Origin") != c.origin {
			t.Errorf("origin %q: Allow-Origin %q", c.origin, h.Get("Access-Control-Allow-Origin"))
		}
	}
	req, _ := http.NewRequest("OPTIONS", hs.URL+"/v1/chat/completions", nil)
	req.Header.Set("Origin", "http://localhost:5173")
	if code, _, h := do(t, req); code != 204 || !strings.Contains(h.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Fatalf("preflight: %d %v", code, h)
	}
}

func TestUnknownRouteAndMethod(t *testing.T) {
	_, hs := newTest(t, Config{})
	req, _ := http.NewRequest("GET", hs.URL+"/v1/chat/completions", nil)
	if code, _, _ := do(t, req); code != http.StatusMethodNotAllowed {
		t.Fatalf("GET on a POST endpoint: %d", code)
	}
	req, _ = http.NewRequest("HEAD", hs.URL+"/", nil)
	if code, _, _ := do(t, req); code != 200 {
		t.Fatalf("HEAD /: %d", code)
	}
}
