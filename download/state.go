package download

import (
	"encoding/json"
	"fmt"
	"os"
)

const stateVersion = 1

// state is what survives a crash beside the .partial file. Chunk.Done counts
// only bytes that were fsynced before the state was written. No hash state
// is kept: a resume hashes the kept bytes from the file, which is the only
// way to know they are still the bytes that arrived.
type state struct {
	Version int     `json:"version"`
	URL     string  `json:"url"`
	ETag    string  `json:"etag"`
	SHA256  string  `json:"sha256"`
	Size    int64   `json:"size"`
	NoRange bool    `json:"no_range,omitempty"` // server ignored Range: one stream from 0
	Chunks  []chunk `json:"chunks"`
}

type chunk struct {
	Offset int64 `json:"offset"`
	Size   int64 `json:"size"`
	Done   int64 `json:"done"`
}

func (c *chunk) complete() bool { return c.Done >= c.Size }

// done is how many bytes the chunks hold.
func (s *state) done() int64 {
	var n int64
	for _, c := range s.Chunks {
		n += c.Done
	}
	return n
}

// frontier is the end of the contiguous downloaded prefix.
func (s *state) frontier() int64 {
	for _, c := range s.Chunks {
		if !c.complete() {
			return c.Offset + c.Done
		}
	}
	return s.Size
}

// matches reports whether a saved state belongs to the same remote content.
// With a sha256 the content is pinned regardless of URL (a new commit with
// the same file still resumes); without one, URL and ETag must agree.
func (s *state) matches(r Remote) bool {
	if s.Version != stateVersion || s.Size != r.Size || s.SHA256 != r.SHA256 {
		return false
	}
	if r.SHA256 == "" && (s.URL != r.URL || s.ETag != r.ETag) {
		return false
	}
	if len(s.Chunks) > maxChunks {
		return false
	}
	var end int64
	for _, c := range s.Chunks {
		// c.Size > s.Size-end also keeps end+c.Size from overflowing.
		if c.Offset != end || c.Size <= 0 || c.Size > s.Size-end || c.Done < 0 || c.Done > c.Size {
			return false
		}
		end += c.Size
	}
	return end == s.Size
}

func newState(r Remote, conns int, chunkSize int64) *state {
	s := &state{Version: stateVersion, URL: r.URL, ETag: r.ETag, SHA256: r.SHA256, Size: r.Size}
	s.Chunks = layout(r.Size, conns, chunkSize)
	return s
}

// Chunking: a range below minChunk is not worth its own request; above
// maxChunk a slow connection holds the tail too long. chunksPerConn ranges
// per connection let fast connections take over the work of slow ones.
// maxChunks bounds the state (memory, JSON) whatever the size claims.
const (
	minChunk      = 1 << 20
	maxChunk      = 32 << 20
	chunksPerConn = 8
	maxChunks     = 4096
)

// chunkSizeFor is the automatic range size for a file of size bytes
// fetched over conns connections. Overflow-safe for any int64.
func chunkSizeFor(size int64, conns int) int64 {
	if size <= 0 {
		return 0
	}
	if conns <= 1 {
		return size
	}
	cs := min(max(ceilDiv(size, int64(conns)*chunksPerConn), minChunk), maxChunk)
	return max(cs, ceilDiv(size, maxChunks))
}

// ceilDiv is ceil(a/b) for a >= 0, b > 0, without the a+b-1 overflow.
func ceilDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 {
		q++
	}
	return q
}

// layout splits size into chunks of chunkSize (0: chunkSizeFor). A size
// <= 0 has none; a forced chunkSize that would exceed maxChunks is raised,
// so the slice stays small for any int64.
func layout(size int64, conns int, chunkSize int64) []chunk {
	if size <= 0 {
		return nil
	}
	if chunkSize <= 0 {
		chunkSize = chunkSizeFor(size, conns)
	}
	chunkSize = max(chunkSize, ceilDiv(size, maxChunks))
	cs := make([]chunk, 0, ceilDiv(size, chunkSize))
	for off := int64(0); off < size; {
		n := min(chunkSize, size-off)
		cs = append(cs, chunk{Offset: off, Size: n})
		off += n // off+n <= size: no overflow
	}
	return cs
}

func loadState(path string) (*state, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s state
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return &s, nil
}

// save writes the state atomically (temp file, fsync, rename).
func (s *state) save(path string) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Resumable is how many bytes of r an interrupted Fetch to dst left that the next Fetch
// keeps instead of downloading again: 0 when there is nothing of r to resume.
func Resumable(r Remote, dst string) int64 {
	s, err := loadState(statePath(dst))
	if err != nil || !s.matches(r) {
		return 0
	}
	if _, err := os.Stat(partialPath(dst)); err != nil {
		return 0
	}
	return s.done()
}
