package models

import (
	"encoding/binary"
	"fmt"
)

// ggufHeaderEnd walks a GGUF v2/v3 header (metadata and tensor infos)
// without decoding values and returns the offset where it ends. It exists so
// InspectRemote knows how many bytes to fetch; the real parsing is
// gguf-parser-go's.
func ggufHeaderEnd(r *rangeReader) (int64, error) {
	w := headerWalker{r: r}
	if magic := w.bytes(4); w.err == nil && string(magic) != "GGUF" {
		return 0, fmt.Errorf("%w: the URL does not point at a .gguf file", ErrNotGGUF)
	}
	version := w.u32()
	if w.err == nil && version != 2 && version != 3 {
		return 0, fmt.Errorf("GGUF version %d is not supported: download a current GGUF build", version)
	}
	tensors, kvs := w.u64(), w.u64()
	if w.err == nil && (tensors > 1<<24 || kvs > 1<<24) {
		return 0, fmt.Errorf("implausible GGUF header (%d tensors, %d keys): the file is damaged", tensors, kvs)
	}
	for i := uint64(0); i < kvs && w.err == nil; i++ {
		w.str()
		w.value(w.u32(), 0)
	}
	for i := uint64(0); i < tensors && w.err == nil; i++ {
		w.str()
		dims := w.u32()
		if dims > 8 {
			return 0, fmt.Errorf("tensor %d has %d dimensions: the file is damaged", i, dims)
		}
		w.skip(int64(dims)*8 + 4 + 8) // dims, type, offset
	}
	if w.err != nil {
		return 0, fmt.Errorf("read GGUF header: %w", w.err)
	}
	return w.off, nil
}

type headerWalker struct {
	r   *rangeReader
	off int64
	err error
}

func (w *headerWalker) bytes(n int64) []byte {
	if w.err != nil {
		return nil
	}
	if n < 0 || n > 1<<30 {
		w.err = fmt.Errorf("field of %d bytes at offset %d: the file is damaged", n, w.off)
		return nil
	}
	if w.err = w.r.ensure(w.off + n); w.err != nil {
		return nil
	}
	b := w.r.buf[w.off : w.off+n]
	w.off += n
	return b
}

func (w *headerWalker) skip(n int64) { w.bytes(n) }

func (w *headerWalker) u32() uint32 {
	if b := w.bytes(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (w *headerWalker) u64() uint64 {
	if b := w.bytes(8); b != nil {
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}

func (w *headerWalker) str() { w.skip(int64(w.u64())) }

// fixedSize is the byte size of GGUF scalar value types, by type id.
var fixedSize = map[uint32]int64{0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}

const (
	ggufString = 8
	ggufArray  = 9
)

func (w *headerWalker) value(t uint32, depth int) {
	if w.err != nil {
		return
	}
	if n, ok := fixedSize[t]; ok {
		w.skip(n)
		return
	}
	switch t {
	case ggufString:
		w.str()
	case ggufArray:
		et, n := w.u32(), w.u64()
		if w.err != nil {
			return
		}
		if depth > 2 || n > 1<<28 {
			w.err = fmt.Errorf("implausible array at offset %d: the file is damaged", w.off)
			return
		}
		if size, ok := fixedSize[et]; ok {
			w.skip(int64(n) * size)
			return
		}
		for i := uint64(0); i < n && w.err == nil; i++ {
			w.value(et, depth+1)
		}
	default:
		w.err = fmt.Errorf("unknown value type %d at offset %d: the file is damaged or too new", t, w.off)
	}
}
