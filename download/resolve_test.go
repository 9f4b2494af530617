package download

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/olm-dev/olm/download/hftest"
)

func TestResolveLFS(t *testing.T) {
	e := newEnv(t)
	f := e.hub.Add(testRepo, "sub/model-Q4_K_M.gguf", randomBytes(5000))
	r, err := e.c.Resolve(context.Background(), testRepo, "main", "sub/model-Q4_K_M.gguf")
	if err != nil {
		t.Fatal(err)
	}
	commit := e.hub.Commit(testRepo)
	if r.Size != 5000 || r.SHA256 != f.SHA256 || r.Commit != commit {
		t.Fatalf("got %+v, want size 5000 sha %s commit %s", r, f.SHA256, commit)
	}
	if want := e.hub.URL() + "/" + testRepo + "/resolve/" + commit + "/sub/model-Q4_K_M.gguf"; r.URL != want {
		t.Errorf("URL = %s, want %s (pinned to the commit)", r.URL, want)
	}
	if got := ranges(e.hub.Requests(hftest.CDN)); len(got) != 0 {
		t.Errorf("Resolve touched the CDN: %v", got)
	}
}

func TestResolveSmallFileHasNoSHA256(t *testing.T) {
	e := newEnv(t)
	f := e.hub.AddSmall(testRepo, "config.json", []byte(`{"a":1}`))
	r, err := e.c.Resolve(context.Background(), testRepo, "main", "config.json")
	if err != nil {
		t.Fatal(err)
	}
	if r.SHA256 != "" || r.ETag != f.GitOID || r.Size != 7 {
		t.Fatalf("got %+v: a git sha1 ETag must not pass for a sha256", r)
	}
	dst := e.dst("config.json")
	if err := e.c.Fetch(context.Background(), r, dst, FetchOptions{}); err != nil {
		t.Fatal(err)
	}
	assertFile(t, dst, f.Data)
}

func TestResolveErrors(t *testing.T) {
	e := newEnv(t)
	e.hub.Add(testRepo, "a.gguf", []byte("x"))
	ctx := context.Background()
	if _, err := e.c.Resolve(ctx, testRepo, "main", "missing.gguf"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing file: %v, want ErrNotFound", err)
	}
	if _, err := e.c.Resolve(ctx, "nobody/none", "main", "a.gguf"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing repo: %v, want ErrNotFound", err)
	}
	if _, err := e.c.Resolve(ctx, "../etc", "main", "a.gguf"); err == nil {
		t.Error("bad repo id accepted")
	}
	if _, err := e.c.Resolve(ctx, testRepo, "main", "../a.gguf"); !errors.Is(err, ErrUnsafeName) {
		t.Errorf("unsafe file: %v", err)
	}
}

func TestResolveRetries5xxAndHonoursRetryAfter(t *testing.T) {
	e := newEnv(t)
	e.hub.Add(testRepo, "a.gguf", []byte("abc"))
	e.hub.Inject(hftest.Fault{Kind: hftest.Status, Server: hftest.API, Code: 503})
	e.hub.Inject(hftest.Fault{Kind: hftest.Status, Server: hftest.API, Code: 429, RetryAfter: "7"})
	if _, err := e.c.Resolve(context.Background(), testRepo, "main", "a.gguf"); err != nil {
		t.Fatal(err)
	}
	s := e.clock.Sleeps()
	if len(s) != 2 || s[1].Seconds() != 7 {
		t.Fatalf("sleeps = %v, want a backoff then exactly 7s (Retry-After)", s)
	}
}

func TestGatedRepo(t *testing.T) {
	e := newEnv(t)
	f := e.hub.Add(testRepo, "a.gguf", randomBytes(1000))
	e.hub.Gate(testRepo, "hf_secret")
	ctx := context.Background()
	for _, tok := range []string{"", "hf_wrong"} {
		e.c.Token = tok
		_, err := e.c.Resolve(ctx, testRepo, "main", "a.gguf")
		if !errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), "HF_TOKEN") {
			t.Errorf("token %q: Resolve err = %v, want ErrUnauthorized mentioning HF_TOKEN", tok, err)
		}
		if _, err := e.c.List(ctx, testRepo, "main"); !errors.Is(err, ErrUnauthorized) {
			t.Errorf("token %q: List err = %v", tok, err)
		}
	}
	if n := len(e.clock.Sleeps()); n != 0 {
		t.Errorf("401 was retried %d times", n)
	}

	e.c.Token = "hf_secret"
	e.hub.ResetRequests()
	r, err := e.c.Resolve(ctx, testRepo, "main", "a.gguf")
	if err != nil {
		t.Fatal(err)
	}
	dst := e.dst("a.gguf")
	if err := e.c.Fetch(ctx, r, dst, FetchOptions{}); err != nil {
		t.Fatal(err)
	}
	assertFile(t, dst, f.Data)
	// The token goes to the hub, never to the CDN the hub redirects to.
	api, cdn := e.hub.Requests(hftest.API), e.hub.Requests(hftest.CDN)
	if len(api) < 2 || len(cdn) == 0 {
		t.Fatalf("api %d requests, cdn %d", len(api), len(cdn))
	}
	for _, q := range api {
		if q.Authorization != "Bearer hf_secret" {
			t.Errorf("API %s %s: Authorization %q", q.Method, q.Path, q.Authorization)
		}
	}
	for _, q := range cdn {
		if q.Authorization != "" {
			t.Errorf("CDN %s got Authorization %q", q.Path, q.Authorization)
		}
	}
}

func TestList(t *testing.T) {
	e := newEnv(t)
	big := e.hub.Add(testRepo, "q4/model.gguf", randomBytes(3000))
	small := e.hub.AddSmall(testRepo, "README.md", []byte("hi"))
	files, err := e.c.List(context.Background(), testRepo, "main")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]RemoteFile{}
	for _, f := range files {
		got[f.Path] = f
	}
	if f := got["q4/model.gguf"]; f.Size != 3000 || f.SHA256 != big.SHA256 {
		t.Errorf("LFS entry %+v: want real size 3000 and sha %s", f, big.SHA256)
	}
	if f := got["README.md"]; f.Size != 2 || f.SHA256 != "" || f.OID != small.GitOID {
		t.Errorf("small entry %+v", f)
	}
}

// An unsafe name is flagged, not fatal: the rest of the listing stays usable.
func TestListFlagsUnsafeNames(t *testing.T) {
	for _, name := range []string{"../evil.gguf", "a/../../b", "/etc/passwd", `a\..\b`, "./x", "a//b", "C:x", "a\x00b"} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			e.hub.Add(testRepo, "ok.gguf", []byte("x"))
			e.hub.AddTreeEntry(testRepo, hftest.TreeEntry{Type: "file", Path: name, Size: 1})
			files, err := e.c.List(context.Background(), testRepo, "main")
			if err != nil || len(files) != 2 {
				t.Fatalf("List = %v, %v; want both entries", files, err)
			}
			for _, f := range files {
				if bad := f.Path == name; bad != errors.Is(f.Unsafe, ErrUnsafeName) {
					t.Errorf("entry %q: Unsafe = %v", f.Path, f.Unsafe)
				}
			}
		})
	}
	for _, ok := range []string{"a.gguf", "dir/sub/a-00001-of-00002.gguf", "..a", "a..b"} {
		if err := ValidName(ok); err != nil {
			t.Errorf("ValidName(%q) = %v", ok, err)
		}
	}
}

func TestOffline(t *testing.T) {
	t.Setenv("HF_HUB_OFFLINE", "1")
	t.Setenv("HF_ENDPOINT", "http://mirror.example")
	t.Setenv("HF_TOKEN", "tok")
	c := NewFromEnv()
	if !c.Offline || c.Endpoint != "http://mirror.example" || c.Token != "tok" {
		t.Fatalf("NewFromEnv = %+v", c)
	}
	e := newEnv(t)
	r := e.resolve("a.gguf", []byte("abc"))
	e.hub.ResetRequests()
	e.c.Offline = true
	ctx := context.Background()
	if _, err := e.c.Resolve(ctx, testRepo, "main", "a.gguf"); !errors.Is(err, ErrOffline) {
		t.Errorf("Resolve: %v", err)
	}
	if _, err := e.c.List(ctx, testRepo, "main"); !errors.Is(err, ErrOffline) {
		t.Errorf("List: %v", err)
	}
	if err := e.c.Fetch(ctx, r, e.dst("a.gguf"), FetchOptions{}); !errors.Is(err, ErrOffline) {
		t.Errorf("Fetch: %v", err)
	}
	if n := len(e.hub.Requests(hftest.API)) + len(e.hub.Requests(hftest.CDN)); n != 0 {
		t.Errorf("offline client made %d requests", n)
	}
}
