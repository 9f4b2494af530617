package download

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
)

// prefixHasher hashes the file's contiguous downloaded prefix as it grows,
// so the final check costs almost nothing. Blocks written at the prefix
// are hashed from memory (feed); bytes other connections wrote ahead of it
// are read back from the file once the prefix reaches them (step). Its
// state can be persisted so a resume continues hashing. It is used by one
// goroutine at a time: the sink while downloading, then finish.
type prefixHasher struct {
	h   hash.Hash
	n   int64 // bytes hashed
	f   io.ReaderAt
	buf []byte
}

// readBackSize is the read size when hashing from the file.
const readBackSize = 1 << 20

func newPrefixHasher(f io.ReaderAt) *prefixHasher {
	return &prefixHasher{h: sha256.New(), f: f}
}

// feed offers bytes just written at off; only the part that extends the
// prefix is hashed, the rest is picked up later by step.
func (p *prefixHasher) feed(off int64, b []byte) {
	if off <= p.n && p.n < off+int64(len(b)) {
		p.h.Write(b[p.n-off:])
		p.n = off + int64(len(b))
	}
}

// step hashes up to one buffer of file bytes from the prefix towards
// limit; everything below limit must be on disk.
func (p *prefixHasher) step(limit int64) error {
	if p.n >= limit {
		return nil
	}
	if p.buf == nil {
		p.buf = make([]byte, readBackSize)
	}
	b := p.buf[:min(int64(len(p.buf)), limit-p.n)]
	k, err := p.f.ReadAt(b, p.n)
	p.h.Write(b[:k])
	p.n += int64(k)
	if err != nil && !(err == io.EOF && k == len(b)) {
		return fmt.Errorf("read back for hashing at %d: %w", p.n, err)
	}
	return nil
}

// catchUp hashes file bytes from the prefix up to limit.
func (p *prefixHasher) catchUp(limit int64) error {
	for p.n < limit {
		if err := p.step(limit); err != nil {
			return err
		}
	}
	return nil
}

func (p *prefixHasher) sum() (n int64, hexsum string) {
	return p.n, hex.EncodeToString(p.h.Sum(nil))
}
