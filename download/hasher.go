package download

import (
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"sync"
)

// prefixHasher hashes the file's contiguous downloaded prefix as it grows,
// so the final check costs almost nothing. The connection writing at the
// prefix hands its bytes straight in (feed); bytes other connections wrote
// ahead of the prefix are read back from the file once it reaches them
// (catchUp). Its state can be persisted so a resume continues hashing.
type prefixHasher struct {
	mu  sync.Mutex
	h   hash.Hash
	n   int64 // bytes hashed
	f   io.ReaderAt
	buf []byte
}

func newPrefixHasher(f io.ReaderAt, saved []byte, n int64) *prefixHasher {
	p := &prefixHasher{h: sha256.New(), f: f}
	if n > 0 && len(saved) > 0 {
		if err := p.h.(encoding.BinaryUnmarshaler).UnmarshalBinary(saved); err == nil {
			p.n = n
		} else {
			p.h.Reset() // unreadable state: rehash from the file
		}
	}
	return p
}

// feed offers bytes just written at off; only the part that extends the
// prefix is hashed, the rest is picked up later by catchUp.
func (p *prefixHasher) feed(off int64, b []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if off <= p.n && p.n < off+int64(len(b)) {
		p.h.Write(b[p.n-off:])
		p.n = off + int64(len(b))
	}
}

// catchUp hashes file bytes from the prefix up to frontier() (everything
// below it is on disk), asking again after each read since the frontier
// moves. It releases the lock between reads so feed is never held up long.
func (p *prefixHasher) catchUp(frontier func() int64) error {
	for {
		frontier := frontier()
		p.mu.Lock()
		if p.n >= frontier {
			p.mu.Unlock()
			return nil
		}
		if p.buf == nil {
			p.buf = make([]byte, 1<<20)
		}
		b := p.buf[:min(int64(len(p.buf)), frontier-p.n)]
		k, err := p.f.ReadAt(b, p.n)
		if k > 0 {
			p.h.Write(b[:k])
			p.n += int64(k)
		}
		p.mu.Unlock()
		if err != nil && !(err == io.EOF && k == len(b)) {
			return fmt.Errorf("read back for hashing: %w", err)
		}
	}
}

// snapshot returns the persisted form of the hash of the first n bytes.
func (p *prefixHasher) snapshot() (n int64, state []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	b, err := p.h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return 0, nil
	}
	return p.n, b
}

func (p *prefixHasher) sum() (n int64, hexsum string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n, hex.EncodeToString(p.h.Sum(nil))
}
