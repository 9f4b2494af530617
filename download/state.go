package download

import (
	"encoding/json"
	"fmt"
	"os"
)

const stateVersion = 1

// state is what survives a crash beside the .partial file. Chunk.Done counts
// only bytes that were fsynced before the state was written, and Hashed/
// HashState describe a prefix that lies within those bytes.
type state struct {
	Version int     `json:"version"`
	URL     string  `json:"url"`
	ETag    string  `json:"etag"`
	SHA256  string  `json:"sha256"`
	Size    int64   `json:"size"`
	NoRange bool    `json:"no_range,omitempty"` // server ignored Range: one stream from 0
	Chunks  []chunk `json:"chunks"`
	// Hashed is how many leading bytes HashState has consumed.
	Hashed    int64  `json:"hashed"`
	HashState []byte `json:"hash_state,omitempty"` // crypto/sha256 MarshalBinary
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
	var end int64
	for _, c := range s.Chunks {
		if c.Offset != end || c.Size <= 0 || c.Done < 0 || c.Done > c.Size {
			return false
		}
		end += c.Size
	}
	return end == s.Size && s.Hashed >= 0 && s.Hashed <= s.Size
}

func newState(r Remote, conns int, chunkSize int64) *state {
	s := &state{Version: stateVersion, URL: r.URL, ETag: r.ETag, SHA256: r.SHA256, Size: r.Size}
	s.Chunks = layout(r.Size, conns, chunkSize)
	return s
}

// layout splits size into chunks: one per file for a single connection,
// else about four per connection (so a slow range does not hold the tail),
// at least 16 MiB each unless chunkSize forces otherwise.
func layout(size int64, conns int, chunkSize int64) []chunk {
	if size == 0 {
		return nil
	}
	if chunkSize <= 0 {
		if conns <= 1 {
			chunkSize = size
		} else {
			chunkSize = max((size+int64(conns)*4-1)/(int64(conns)*4), 16<<20)
		}
	}
	var cs []chunk
	for off := int64(0); off < size; off += chunkSize {
		cs = append(cs, chunk{Offset: off, Size: min(chunkSize, size-off)})
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
