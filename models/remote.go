package models

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/olm-dev/olm/gguf"
)

// RemoteOptions configure InspectRemote. The zero value works.
type RemoteOptions struct {
	Client  *http.Client // nil: http.DefaultClient
	Token   string       // HF token; sent to the first host only, never to the CDN
	TempDir string       // where the header is staged; "" is os.TempDir()
}

// InspectRemote reads only the header of a GGUF that is not pulled yet,
// through HTTP Range requests that grow until the header ends (typically a
// few MB of a multi-GB file). A split file's URL brings in all its parts.
func InspectRemote(ctx context.Context, rawURL string, opt RemoteOptions) (Info, error) {
	urls, err := splitURLs(rawURL)
	if err != nil {
		return Info{}, fmt.Errorf("inspect %s: %w", rawURL, err)
	}
	// The parser wants files: stage each header in a sparse file of the
	// remote size, so its offset and size checks see the real layout.
	dir, err := os.MkdirTemp(opt.TempDir, "olm-inspect-")
	if err != nil {
		return Info{}, fmt.Errorf("inspect %s: %w", rawURL, err)
	}
	defer os.RemoveAll(dir)
	var fetched int64
	var first string
	for _, u := range urls {
		p, n, err := stageHeader(ctx, u, opt, dir)
		fetched += n
		if err != nil {
			return Info{}, fmt.Errorf("inspect %s: %w", u, err)
		}
		if first == "" {
			first = p
		}
	}
	info, err := parseInfo(first, rawURL)
	if err != nil {
		return Info{}, fmt.Errorf("inspect: %w", err)
	}
	info.Path = rawURL
	info.Fetched = fetched
	return info, nil
}

// splitURLs expands a URL to part k of an N-part GGUF into all parts.
func splitURLs(raw string) ([]string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	parts, err := splitParts("", nil, path.Base(u.Path))
	if err != nil {
		return nil, err
	}
	out := make([]string, len(parts))
	for i, p := range parts {
		v := *u
		v.Path = path.Join(path.Dir(u.Path), p)
		v.RawPath = ""
		out[i] = v.String()
	}
	return out, nil
}

// stageHeader checks the header of one remote file with olm's GGUF check, as a local file
// would be, and writes it into dir under the file's own name (the parser finds split
// siblings by name). It returns the bytes fetched.
func stageHeader(ctx context.Context, u string, opt RemoteOptions, dir string) (string, int64, error) {
	rr := &rangeReader{ctx: ctx, url: u, client: authClient(opt.Client), token: opt.Token}
	if err := rr.ensure(1); err != nil { // learns the size
		return "", rr.fetched, err
	}
	h, err := gguf.Validate(rr, rr.size)
	if err != nil {
		return "", rr.fetched, err
	}
	end := h.HeaderEnd
	name, _ := url.PathUnescape(path.Base(u))
	p := filepath.Join(dir, filepath.Base(name))
	f, err := os.Create(p)
	if err != nil {
		return "", rr.fetched, err
	}
	defer f.Close()
	if _, err := f.Write(rr.buf[:end]); err != nil {
		return "", rr.fetched, err
	}
	if err := f.Truncate(rr.size); err != nil { // sparse: no disk used past the header
		return "", rr.fetched, err
	}
	return p, rr.fetched, f.Close()
}

// authClient copies c with a redirect policy that drops the token when the
// host changes: HF redirects LFS files to a CDN that must not see it.
func authClient(c *http.Client) *http.Client {
	if c == nil {
		c = http.DefaultClient
	}
	cc := *c
	prev := c.CheckRedirect
	cc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Host != via[0].URL.Host {
			req.Header.Del("Authorization")
		}
		if prev != nil {
			return prev(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &cc
}

// rangeReader holds a growing prefix of a remote file. The header is read
// front to back, so a prefix that doubles on demand costs at most about
// twice the header and a handful of requests.
type rangeReader struct {
	ctx     context.Context
	client  *http.Client
	url     string
	token   string
	buf     []byte // bytes [0, len(buf)) of the file
	size    int64  // total size, from Content-Range
	fetched int64
}

const firstRange = 256 << 10

// ensure grows the prefix to at least n bytes.
func (r *rangeReader) ensure(n int64) error {
	have := int64(len(r.buf))
	if n <= have {
		return nil
	}
	if r.size > 0 && n > r.size {
		return io.ErrUnexpectedEOF
	}
	want := max(n, 2*have, firstRange)
	if r.size > 0 {
		want = min(want, r.size)
	}
	req, err := http.NewRequestWithContext(r.ctx, http.MethodGet, r.url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", have, want-1))
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusPartialContent:
	case http.StatusOK:
		return errors.New("the server ignores Range requests: reading the header would download the whole file")
	case http.StatusRequestedRangeNotSatisfiable:
		return io.ErrUnexpectedEOF
	case http.StatusUnauthorized, http.StatusForbidden:
		return fmt.Errorf("%s: the repo is gated or private: accept its license on huggingface.co and set HF_TOKEN", resp.Status)
	default:
		return fmt.Errorf("range request: %s", resp.Status)
	}
	start, total, err := parseContentRange(resp.Header.Get("Content-Range"))
	if err != nil {
		return err
	}
	if start != have {
		return fmt.Errorf("range request: asked for byte %d, got %d", have, start)
	}
	r.size = total
	body, err := io.ReadAll(io.LimitReader(resp.Body, want-have))
	r.fetched += int64(len(body))
	r.buf = append(r.buf, body...)
	if err != nil {
		return err
	}
	if int64(len(r.buf)) < n {
		return io.ErrUnexpectedEOF
	}
	return nil
}

// ReadAt reads the remote file's bytes, fetching more of its prefix as needed, so that
// gguf.Validate reads a remote header as it reads a local one.
func (r *rangeReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= r.size {
		return 0, io.EOF
	}
	end := min(off+int64(len(p)), r.size)
	if err := r.ensure(end); err != nil {
		return 0, err
	}
	n := copy(p, r.buf[off:end])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// parseContentRange reads "bytes START-END/TOTAL".
func parseContentRange(s string) (start, total int64, err error) {
	spec, ok := strings.CutPrefix(s, "bytes ")
	rng, tot, ok2 := strings.Cut(spec, "/")
	first, _, ok3 := strings.Cut(rng, "-")
	if !ok || !ok2 || !ok3 || tot == "*" {
		return 0, 0, fmt.Errorf("range request: bad Content-Range %q", s)
	}
	if start, err = strconv.ParseInt(first, 10, 64); err == nil {
		total, err = strconv.ParseInt(tot, 10, 64)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("range request: bad Content-Range %q", s)
	}
	return start, total, nil
}
