package download

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Remote describes one file on the hub, as Resolve found it. Fetch needs it
// to download and to verify.
type Remote struct {
	Repo     string // "owner/name"
	Revision string // as asked: branch, tag or commit
	File     string // path inside the repo
	Commit   string // commit the revision resolved to ("" if the hub did not say)
	Size     int64
	// SHA256 is the LFS content hash in lower-case hex; "" for small non-LFS
	// files whose ETag is a git blob sha1, in which case only size is checked.
	SHA256 string
	// ETag is the hub's ETag (sha256 for LFS files, git sha1 otherwise).
	ETag string
	// URL is the resolve URL pinned to Commit; Fetch follows its redirect.
	URL string
}

// Resolve asks the hub (HEAD, redirect not followed) for a file's size,
// sha256, commit and download URL.
func (c *Client) Resolve(ctx context.Context, repo, rev, file string) (Remote, error) {
	if err := checkRepo(repo); err != nil {
		return Remote{}, err
	}
	if err := ValidName(file); err != nil {
		return Remote{}, err
	}
	if rev == "" {
		rev = "main"
	}
	var r Remote
	err := c.retry(ctx, file, func() error {
		var err error
		r, err = c.resolveOnce(ctx, repo, rev, file)
		return classify(ctx, err)
	})
	if err != nil {
		return Remote{}, fmt.Errorf("resolve %s/%s@%s: %w", repo, file, rev, err)
	}
	return r, nil
}

func (c *Client) resolveOnce(ctx context.Context, repo, rev, file string) (Remote, error) {
	u := c.resolveURL(repo, rev, file)
	hdr := http.Header{"Accept-Encoding": {"identity"}}
	resp, err := c.send(ctx, http.MethodHead, u, hdr, false)
	if err != nil {
		return Remote{}, err
	}
	// Same-host redirects (renamed repos) carry no file metadata: follow them.
	for hops := 0; isRedirect(resp.StatusCode) && hops < maxRedirects; hops++ {
		loc, err := resp.Location()
		drain(resp)
		if err != nil {
			return Remote{}, err
		}
		if resp.Header.Get("X-Linked-Etag") != "" || resp.Header.Get("X-Repo-Commit") != "" || loc.Host != resp.Request.URL.Host {
			return remoteFrom(c, repo, rev, file, resp.Header, -1)
		}
		if resp, err = c.send(ctx, http.MethodHead, loc.String(), hdr, false); err != nil {
			return Remote{}, err
		}
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusOK {
		return Remote{}, statusError(resp)
	}
	return remoteFrom(c, repo, rev, file, resp.Header, resp.ContentLength)
}

func remoteFrom(c *Client, repo, rev, file string, h http.Header, contentLength int64) (Remote, error) {
	r := Remote{Repo: repo, Revision: rev, File: file, Commit: h.Get("X-Repo-Commit"), Size: -1}
	r.ETag = unquoteETag(h.Get("X-Linked-Etag"))
	if r.ETag == "" {
		r.ETag = unquoteETag(h.Get("ETag"))
	}
	if isSHA256(r.ETag) {
		r.SHA256 = strings.ToLower(r.ETag)
	}
	if s := h.Get("X-Linked-Size"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return Remote{}, fmt.Errorf("bad X-Linked-Size %q", s)
		}
		r.Size = n
	} else if contentLength >= 0 {
		r.Size = contentLength
	}
	if r.Size < 0 {
		return Remote{}, fmt.Errorf("hub gave no size for %s", file)
	}
	pin := rev
	if r.Commit != "" {
		pin = r.Commit
	}
	r.URL = c.resolveURL(repo, pin, file)
	return r, nil
}

func (c *Client) resolveURL(repo, rev, file string) string {
	return c.endpoint() + "/" + repo + "/resolve/" + url.PathEscape(rev) + "/" + escapePath(file)
}

func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

// unquoteETag strips W/ and quotes: `W/"abc"` -> abc.
func unquoteETag(s string) string {
	s = strings.TrimPrefix(strings.TrimSpace(s), "W/")
	return strings.Trim(s, `"`)
}

func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
