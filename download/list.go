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
func (c *Client) List(ctx context.Context, repo, rev string) ([]RemoteFile, error) {
	if err := checkRepo(repo); err != nil {
		return nil, err
	}
	if rev == "" {
		rev = "main"
	}
	next := c.endpoint() + "/api/models/" + repo + "/tree/" + url.PathEscape(rev) + "?recursive=true"
	var files []RemoteFile
	for next != "" {
		var page []treeEntry
		var link string
		err := c.retry(ctx, repo, func() error {
			var err error
			page, link, err = c.getTree(ctx, next)
			return classify(ctx, err)
		})
		if err != nil {
			return nil, fmt.Errorf("list %s@%s: %w", repo, rev, err)
		}
		files = append(files, filesOf(page)...)
		next = link
	}
	return files, nil
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

func (c *Client) getTree(ctx context.Context, u string) ([]treeEntry, string, error) {
	resp, err := c.send(ctx, http.MethodGet, u, http.Header{"Accept": {"application/json"}}, true)
	if err != nil {
		return nil, "", err
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusOK {
		return nil, "", statusError(resp)
	}
	page, err := decodeTree(resp.Body)
	if err != nil {
		return nil, "", err
	}
	return page, nextLink(resp), nil
}

// maxTreePage bounds what one listing page may take in memory; the hub
// pages its listings far below it.
const maxTreePage = 32 << 20

func decodeTree(r io.Reader) ([]treeEntry, error) {
	var page []treeEntry
	lr := &io.LimitedReader{R: r, N: maxTreePage + 1}
	if err := json.NewDecoder(lr).Decode(&page); err != nil {
		if lr.N <= 0 {
			return nil, fmt.Errorf("tree listing page over %d MiB: not a hub answer", maxTreePage>>20)
		}
		return nil, fmt.Errorf("decode tree listing: %w", err)
	}
	return page, nil
}

var linkNext = regexp.MustCompile(`<([^>]+)>\s*;\s*rel="?next"?`)

// nextLink follows the hub's pagination (Link: <...>; rel="next").
func nextLink(resp *http.Response) string {
	m := linkNext.FindStringSubmatch(resp.Header.Get("Link"))
	if m == nil {
		return ""
	}
	u, err := resp.Request.URL.Parse(m[1])
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
