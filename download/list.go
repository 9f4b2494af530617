package download

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// RemoteFile is one file of a repo listing.
type RemoteFile struct {
	Path   string
	Size   int64
	SHA256 string // LFS sha256; "" for non-LFS files
	OID    string // git blob id
	// Unsafe is non-nil (wrapping ErrUnsafeName) when Path could escape a
	// local directory: never join it to a path. List reports such entries
	// instead of failing, so one bad name does not hide the rest of a repo.
	Unsafe error
}

type treeEntry struct {
	Type string `json:"type"`
	Path string `json:"path"`
	Size int64  `json:"size"`
	OID  string `json:"oid"`
	LFS  *struct {
		OID  string `json:"oid"`
		Size int64  `json:"size"`
	} `json:"lfs"`
}

// List returns every file of repo at rev (recursively) via the tree API.
// Entries with an unsafe name come back with Unsafe set (see RemoteFile).
// The hub's pagination is followed only while it stays sane (see pager).
func (c *Client) List(ctx context.Context, repo, rev string) ([]RemoteFile, error) {
	if err := checkRepo(repo); err != nil {
		return nil, err
	}
	if rev == "" {
		rev = "main"
	}
	next := c.endpoint() + "/api/models/" + repo + "/tree/" + url.PathEscape(rev) + "?recursive=true"
	p, err := newPager(c.endpoint(), next)
	if err != nil {
		return nil, err
	}
	var files []RemoteFile
	for next != "" {
		var page []treeEntry
		var link string
		var size int64
		err := c.retry(ctx, repo, func() error {
			var err error
			page, link, size, err = c.getTree(ctx, next)
			return classify(ctx, err)
		})
		if err == nil {
			err = p.advance(len(page), size, link)
		}
		if err != nil {
			return nil, fmt.Errorf("list %s@%s: %w", repo, rev, err)
		}
		files = append(files, filesOf(page)...)
		next = link
	}
	return files, nil
}

// A listing past any of these is no real repo's (the largest hold tens
// of thousands of files, in a few dozen MiB of JSON): a hub that pages
// without end is refused long before its pages fill memory.
const (
	maxListPages   = 1000
	maxListEntries = 100_000
	maxListBytes   = 256 << 20
)

// hostileHub ends the error of a listing that the hub will not let end.
const hostileHub = "a broken or hostile hub (check HF_ENDPOINT; naming the .gguf file skips the listing)"

// pager keeps a listing's pagination finite and on the hub: a next page
// must be on the hub's scheme and host (where the token goes), never one
// already listed, and the whole listing stays within maxListPages pages,
// maxListEntries entries and maxListBytes bytes.
type pager struct {
	hub                   *url.URL
	seen                  map[string]bool
	pages, entries, bytes int64
}

func newPager(endpoint, first string) (*pager, error) {
	hub, err := url.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("bad endpoint %q: %w", endpoint, err)
	}
	u, err := url.Parse(first)
	if err != nil {
		return nil, err
	}
	return &pager{hub: hub, seen: map[string]bool{u.String(): true}}, nil
}

// advance counts a page of n entries and size bytes, and checks its next
// link (resolved, as nextLink gives it; "" at the end) before it is followed.
func (p *pager) advance(n int, size int64, next string) error {
	p.pages++
	p.entries += int64(n)
	p.bytes += size
	switch {
	case p.entries > maxListEntries:
		return fmt.Errorf("over %d entries listed: %s", maxListEntries, hostileHub)
	case p.bytes > maxListBytes:
		return fmt.Errorf("over %d MiB of listing: %s", maxListBytes>>20, hostileHub)
	case next == "":
		return nil
	case p.pages >= maxListPages:
		return fmt.Errorf("over %d pages of listing: %s", maxListPages, hostileHub)
	}
	u, err := url.Parse(next)
	if err != nil {
		return fmt.Errorf("bad next page link %q: %s", next, hostileHub)
	}
	if u.Scheme != p.hub.Scheme || u.Host != p.hub.Host {
		return fmt.Errorf("next page on %s, off the hub at %s: not followed: %s", redact(u), p.hub.Host, hostileHub)
	}
	if p.seen[u.String()] {
		return fmt.Errorf("next page %s was listed already (the pagination loops): %s", redact(u), hostileHub)
	}
	p.seen[u.String()] = true
	return nil
}

// filesOf turns one page of the tree API into files: directories are left
// out, unsafe names flagged.
func filesOf(page []treeEntry) []RemoteFile {
	var files []RemoteFile
	for _, e := range page {
		if e.Type != "file" {
			continue
		}
		f := RemoteFile{Path: e.Path, Size: e.Size, OID: e.OID, Unsafe: ValidName(e.Path)}
		if e.LFS != nil {
			f.Size = e.LFS.Size
			if isSHA256(e.LFS.OID) {
				f.SHA256 = strings.ToLower(e.LFS.OID)
			}
		}
		files = append(files, f)
	}
	return files
}

// getTree fetches one page of a listing: its entries, next link and size in bytes.
func (c *Client) getTree(ctx context.Context, u string) ([]treeEntry, string, int64, error) {
	resp, err := c.send(ctx, http.MethodGet, u, http.Header{"Accept": {"application/json"}}, true)
	if err != nil {
		return nil, "", 0, err
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusOK {
		return nil, "", 0, statusError(resp)
	}
	page, size, err := decodeTree(resp.Body)
	if err != nil {
		return nil, "", 0, err
	}
	return page, nextLink(resp.Header.Get("Link"), resp.Request.URL), size, nil
}

// maxTreePage bounds what one listing page may take in memory; the hub
// pages its listings far below it.
const maxTreePage = 32 << 20

// decodeTree decodes one page and says how many bytes it read.
func decodeTree(r io.Reader) ([]treeEntry, int64, error) {
	var page []treeEntry
	lr := &io.LimitedReader{R: r, N: maxTreePage + 1}
	if err := json.NewDecoder(lr).Decode(&page); err != nil {
		if lr.N <= 0 {
			return nil, 0, fmt.Errorf("tree listing page over %d MiB: not a hub answer", maxTreePage>>20)
		}
		return nil, 0, fmt.Errorf("decode tree listing: %w", err)
	}
	return page, maxTreePage + 1 - lr.N, nil
}

var linkNext = regexp.MustCompile(`<([^>]+)>\s*;\s*rel="?next"?`)

// nextLink is the next page of the hub's pagination (Link: <...>;
// rel="next"), resolved against the page's URL; "" when there is none.
func nextLink(link string, page *url.URL) string {
	m := linkNext.FindStringSubmatch(link)
	if m == nil {
		return ""
	}
	u, err := page.Parse(m[1])
	if err != nil {
		return ""
	}
	return u.String()
}

var repoRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$`)

func checkRepo(repo string) error {
	if !repoRe.MatchString(repo) || strings.Contains(repo, "..") {
		return fmt.Errorf("bad repo id %q: want owner/name", repo)
	}
	return nil
}

// ValidName reports whether a repo file path is safe to join under a local
// directory: relative, slash-separated, no "..", "." or empty segments, no
// backslashes, drive letters or control characters.
func ValidName(name string) error {
	bad := func(why string) error { return fmt.Errorf("%w %q: %s", ErrUnsafeName, name, why) }
	switch {
	case name == "":
		return bad("empty")
	case strings.HasPrefix(name, "/"):
		return bad("absolute path")
	case strings.Contains(name, `\`):
		return bad("backslash")
	case len(name) >= 2 && name[1] == ':':
		return bad("drive letter")
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return bad("control character")
		}
	}
	for _, seg := range strings.Split(name, "/") {
		switch seg {
		case "..":
			return bad("parent directory segment")
		case ".", "":
			return bad("empty or '.' segment")
		}
	}
	return nil
}
