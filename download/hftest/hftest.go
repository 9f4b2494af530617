// Package hftest is a fake Hugging Face hub for tests: an API server that
// answers resolve (302 to a separate CDN server for LFS files), tree and
// revision calls, and a CDN that serves Range requests, records what it was
// asked, and misbehaves on demand (see Fault).
package hftest

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Hub is the fake hub. Create it with New; it closes itself at test end.
type Hub struct {
	API *httptest.Server
	CDN *httptest.Server

	mu       sync.Mutex
	repos    map[string]*repo
	blobs    map[string]*File // by sha256, for the CDN
	faults   []*Fault
	requests []Request
	release  chan struct{} // closed by Release: stalled responses end
	stalls   chan struct{}
	noRange  bool             // SetRangeSupport(false)
	pageSize int              // SetTreePageSize; 0: one page
	rate     int64            // SetRate: CDN bytes/s per response; 0: unlimited
	sizes    map[string]int64 // SetLinkedSize: claimed sizes by repo+"\x00"+path

	inFlight, maxInFlight int            // CDN bodies being sent, and the most at once
	filesInFlight         map[string]int // CDN bodies being sent, by file path
	maxFilesInFlight      int            // the most files with a body being sent at once
}

type repo struct {
	commit string
	token  string // non-empty: gated, needs "Bearer token"
	files  map[string]*File
	extra  []TreeEntry // raw entries added to listings (e.g. bad names)
}

// File is a registered file.
type File struct {
	Path   string
	Data   []byte
	LFS    bool
	SHA256 string // hex
	GitOID string // git blob sha1, hex
}

// Server names one of the two servers.
type Server int

const (
	CDN Server = iota
	API
)

// Request is one request as a server saw it.
type Request struct {
	Server        Server
	Method        string
	Path          string
	Range         string // raw Range header
	Authorization string
	Status        int // CDN only: the status it answered
}

// New starts a hub with both servers; it closes at test end.
func New(t testing.TB) *Hub {
	h := Start()
	t.Cleanup(h.Close)
	return h
}

// Start starts a hub outside a test (e.g. a manual benchmark's server);
// Close stops it.
func Start() *Hub {
	h := &Hub{
		repos:         map[string]*repo{},
		blobs:         map[string]*File{},
		sizes:         map[string]int64{},
		filesInFlight: map[string]int{},
		release:       make(chan struct{}),
		stalls:        make(chan struct{}, 64),
	}
	h.API = httptest.NewServer(http.HandlerFunc(h.serveAPI))
	h.CDN = httptest.NewServer(http.HandlerFunc(h.serveCDN))
	return h
}

// Close ends stalled responses and stops both servers.
func (h *Hub) Close() {
	h.Release()
	h.API.Close()
	h.CDN.Close()
}

// SetRate limits every CDN response to bytesPerSec (0: unlimited), as a
// CDN that caps each connection: more parallel ranges then mean more speed.
func (h *Hub) SetRate(bytesPerSec int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.rate = bytesPerSec
}

// SetLinkedSize makes the hub claim n bytes for repoName's path, in the
// resolve headers (X-Linked-Size) and the tree listing, whatever it holds:
// a hostile or broken hub.
func (h *Hub) SetLinkedSize(repoName, path string, n int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sizes[repoName+"\x00"+path] = n
}

// MaxInFlight is the most CDN responses that were sending at once.
func (h *Hub) MaxInFlight() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.maxInFlight
}

// MaxFilesInFlight is the most distinct files whose CDN responses were
// sending at once: above 1, the downloads of several files overlapped.
func (h *Hub) MaxFilesInFlight() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.maxFilesInFlight
}

// URL is the hub endpoint (HF_ENDPOINT).
func (h *Hub) URL() string { return h.API.URL }

func (h *Hub) repo(name string) *repo {
	r := h.repos[name]
	if r == nil {
		sum := sha1.Sum([]byte("commit:" + name))
		r = &repo{commit: hex.EncodeToString(sum[:]), files: map[string]*File{}}
		h.repos[name] = r
	}
	return r
}

// Add registers an LFS file (served via the CDN) and returns it.
func (h *Hub) Add(repoName, path string, data []byte) *File { return h.add(repoName, path, data, true) }

// AddSmall registers a non-LFS file, served by the API itself with a git
// sha1 ETag.
func (h *Hub) AddSmall(repoName, path string, data []byte) *File {
	return h.add(repoName, path, data, false)
}

func (h *Hub) add(repoName, path string, data []byte, lfs bool) *File {
	h.mu.Lock()
	defer h.mu.Unlock()
	sum := sha256.Sum256(data)
	git := sha1.New()
	fmt.Fprintf(git, "blob %d\x00", len(data))
	git.Write(data)
	f := &File{Path: path, Data: data, LFS: lfs, SHA256: hex.EncodeToString(sum[:]), GitOID: hex.EncodeToString(git.Sum(nil))}
	h.repo(repoName).files[path] = f
	if lfs {
		h.blobs[f.SHA256] = f
	}
	return f
}

// Commit is the commit sha that "main" resolves to in repoName.
func (h *Hub) Commit(repoName string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.repo(repoName).commit
}

// Gate makes repoName answer 401 unless "Authorization: Bearer token".
func (h *Hub) Gate(repoName, token string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.repo(repoName).token = token
}

// TreeEntry is one entry of the tree API, as the real hub sends it.
type TreeEntry struct {
	Type string   `json:"type"`
	Path string   `json:"path"`
	Size int64    `json:"size"`
	OID  string   `json:"oid"`
	LFS  *LFSInfo `json:"lfs,omitempty"`
}

// LFSInfo is the lfs part of a TreeEntry.
type LFSInfo struct {
	OID         string `json:"oid"`
	Size        int64  `json:"size"`
	PointerSize int    `json:"pointerSize"`
}

// AddTreeEntry adds a raw entry to repoName's listing (e.g. a "../x" name).
func (h *Hub) AddTreeEntry(repoName string, e TreeEntry) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.repo(repoName)
	r.extra = append(r.extra, e)
}

// Requests returns what server s has been asked so far.
func (h *Hub) Requests(s Server) []Request {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []Request
	for _, r := range h.requests {
		if r.Server == s {
			out = append(out, r)
		}
	}
	return out
}

// ResetRequests forgets recorded requests.
func (h *Hub) ResetRequests() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.requests = nil
}

func (h *Hub) record(r Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.requests = append(h.requests, r)
}

// Stalls receives a value each time a response starts stalling.
func (h *Hub) Stalls() <-chan struct{} { return h.stalls }

// Release ends every stalled response, now and later (Stall faults then
// only cut the connection). Safe to call twice.
func (h *Hub) Release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	select {
	case <-h.release:
	default:
		close(h.release)
	}
}

// --- API server ---

func (h *Hub) serveAPI(w http.ResponseWriter, r *http.Request) {
	// Recorded before answering, so a client that has its answer can
	// always see its request in Requests.
	h.record(Request{Server: API, Method: r.Method, Path: r.URL.Path, Range: r.Header.Get("Range"),
		Authorization: r.Header.Get("Authorization")})
	if f := h.takeFault(API, ""); f != nil && f.Kind == Status {
		f.writeStatus(w)
		return
	}
	p := strings.TrimPrefix(r.URL.Path, "/")
	if rest, ok := strings.CutPrefix(p, "api/models/"); ok {
		h.serveModelAPI(w, r, rest)
		return
	}
	// {owner}/{repo}/resolve/{rev}/{file...}
	parts := strings.SplitN(p, "/", 5)
	if len(parts) < 5 || parts[2] != "resolve" {
		http.NotFound(w, r)
		return
	}
	h.serveResolve(w, r, parts[0]+"/"+parts[1], parts[3], parts[4])
}

// lookup finds a repo and checks the revision and token.
func (h *Hub) lookup(w http.ResponseWriter, r *http.Request, name, rev string) *repo {
	h.mu.Lock()
	rp := h.repos[name]
	h.mu.Unlock()
	if rp == nil {
		http.Error(w, "Repository not found", http.StatusNotFound)
		return nil
	}
	if rp.token != "" && r.Header.Get("Authorization") != "Bearer "+rp.token {
		w.Header().Set("X-Error-Code", "GatedRepo")
		http.Error(w, "Access to model "+name+" is restricted", http.StatusUnauthorized)
		return nil
	}
	if rev != "main" && rev != rp.commit {
		w.Header().Set("X-Error-Code", "RevisionNotFound")
		http.Error(w, "Revision Not Found", http.StatusNotFound)
		return nil
	}
	return rp
}

func (h *Hub) serveResolve(w http.ResponseWriter, r *http.Request, name, rev, path string) {
	rp := h.lookup(w, r, name, rev)
	if rp == nil {
		return
	}
	h.mu.Lock()
	f := rp.files[path]
	h.mu.Unlock()
	if f == nil {
		w.Header().Set("X-Error-Code", "EntryNotFound")
		http.Error(w, "Entry not found", http.StatusNotFound)
		return
	}
	w.Header().Set("X-Repo-Commit", rp.commit)
	if !f.LFS {
		w.Header().Set("ETag", `"`+f.GitOID+`"`)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.Data))
		return
	}
	w.Header().Set("ETag", `"`+f.SHA256+`"`)
	w.Header().Set("X-Linked-Etag", `"`+f.SHA256+`"`)
	w.Header().Set("X-Linked-Size", strconv.FormatInt(h.linkedSize(name, f), 10))
	w.Header().Set("Location", h.CDN.URL+"/repos/"+f.SHA256+"?X-Amz-Signature=fake")
	w.WriteHeader(http.StatusFound)
}

func (h *Hub) serveModelAPI(w http.ResponseWriter, r *http.Request, rest string) {
	// {owner}/{repo}/tree/{rev} or {owner}/{repo}/revision/{rev}
	parts := strings.SplitN(rest, "/", 4)
	if len(parts) != 4 {
		http.NotFound(w, r)
		return
	}
	rp := h.lookup(w, r, parts[0]+"/"+parts[1], parts[3])
	if rp == nil {
		return
	}
	name := parts[0] + "/" + parts[1]
	var entries []TreeEntry
	for _, f := range rp.snapshotFiles(h) {
		e := TreeEntry{Type: "file", Path: f.Path, Size: int64(len(f.Data)), OID: f.GitOID}
		if f.LFS {
			e.Size = 134 // the pointer file
			e.LFS = &LFSInfo{OID: f.SHA256, Size: h.linkedSize(name, f), PointerSize: 134}
		}
		entries = append(entries, e)
	}
	h.mu.Lock()
	entries = append(entries, rp.extra...)
	commit := rp.commit
	h.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch parts[2] {
	case "tree":
		page, next, ok := h.page(r, entries)
		if !ok {
			http.Error(w, "bad cursor", http.StatusBadRequest)
			return
		}
		if next != "" {
			w.Header().Set("Link", "<"+next+`>; rel="next"`)
		}
		json.NewEncoder(w).Encode(page)
	case "revision":
		type sibling struct {
			RFilename string `json:"rfilename"`
		}
		out := struct {
			ID       string    `json:"id"`
			SHA      string    `json:"sha"`
			Siblings []sibling `json:"siblings"`
		}{ID: parts[0] + "/" + parts[1], SHA: commit}
		for _, e := range entries {
			out.Siblings = append(out.Siblings, sibling{e.Path})
		}
		json.NewEncoder(w).Encode(out)
	default:
		http.NotFound(w, r)
	}
}

// snapshotFiles copies the file list under the lock.
func (rp *repo) snapshotFiles(h *Hub) []*File {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*File, 0, len(rp.files))
	for _, f := range rp.files {
		out = append(out, f)
	}
	return out
}

// linkedSize is the size the hub claims for f (SetLinkedSize, else its length).
func (h *Hub) linkedSize(repoName string, f *File) int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	if n, ok := h.sizes[repoName+"\x00"+f.Path]; ok {
		return n
	}
	return int64(len(f.Data))
}
