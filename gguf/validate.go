package gguf

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"strings"
)

// Header is what Validate learned about a file that passed.
type Header struct {
	Version      int
	Tensors      uint64
	KVs          uint64
	Alignment    int64
	Architecture string // general.architecture
	SplitCount   int    // split.count; 0 when the file is not one part of a split model
	HeaderEnd    int64  // where the tensor infos end
	DataOffset   int64  // where the tensor data starts (HeaderEnd, aligned)
	DataEnd      int64  // where the last tensor's bytes end
}

// Limits on what one file may declare. Real models stay far below them; they exist so that a
// crafted count can never make olm, gguf-parser-go or llama.cpp allocate for it.
const (
	maxTensors     = 1 << 16   // a 600B model has a few thousand; the parser preallocates split.tensors.count
	maxKVs         = 1 << 16   // models carry tens of keys
	maxKeyLen      = 1 << 16   // the GGUF spec's limit (uint16 range)
	maxNameLen     = 64 - 1    // GGML_MAX_NAME, with its NUL
	maxDims        = 4         // GGML_MAX_DIMS
	maxString      = 64 << 20  // one metadata string (chat templates are kilobytes)
	maxArrayItems  = 1 << 24   // all arrays together: vocabularies are up to ~1M entries
	maxHeaderBytes = 256 << 20 // metadata and tensor infos (~10 MB for a 256k vocabulary); the parser holds them all
	maxAlignment   = 1 << 20
	maxLayers      = 4096 // gguf-parser-go's maxSaneBlockCount; llama.cpp allows 512
	maxExperts     = 512  // llama.cpp's LLAMA_MAX_EXPERTS
	minKVBytes     = 8 + 4 + 1
	minTensorBytes = 8 + 4 + 8 + 4 + 8 // name length, n_dims, one dim, type, offset
	defaultAlign   = 32                // GGUF_DEFAULT_ALIGNMENT
)

// GGUF metadata value types (gguf.h's enum gguf_type).
const (
	tUint8 uint32 = iota
	tInt8
	tUint16
	tInt16
	tUint32
	tInt32
	tFloat32
	tBool
	tString
	tArray
	tUint64
	tInt64
	tFloat64
	tCount
)

func typeName(t uint32) string {
	if t < tCount {
		return strings.Fields("u8 i8 u16 i16 u32 i32 f32 bool string array u64 i64 f64")[t]
	}
	return fmt.Sprintf("type %d", t)
}

// scalarSize is the byte size of a fixed-size value type, 0 for string and array.
func scalarSize(t uint32) uint64 {
	switch t {
	case tUint8, tInt8, tBool:
		return 1
	case tUint16, tInt16:
		return 2
	case tUint32, tInt32, tFloat32:
		return 4
	case tUint64, tInt64, tFloat64:
		return 8
	}
	return 0
}

func isNumeric(t uint32) bool { return t < tCount && t != tBool && t != tString && t != tArray }

// kv is what the check keeps of one metadata entry: its type, and the value when it is a
// scalar or a short string (arrays keep their element type and length only).
type kv struct {
	typ  uint32
	elem uint32 // arrays
	n    uint64 // array length
	num  uint64 // integer scalars, as read
	str  string // strings up to maxKeptString bytes
}

const maxKeptString = 256

// Validate checks a GGUF file of size bytes read through r: the header, every metadata
// entry, every tensor info and where the tensor data lies. It reads the header only (never
// tensor data), allocates in proportion to what it has read, never to a count it was given,
// and accepts only files that llama.cpp can open and gguf-parser-go can parse. Errors wrap
// ErrNotGGUF, ErrCorrupt or ErrUnsupported and do not name the file; Check adds the path.
func Validate(r io.ReaderAt, size int64) (Header, error) {
	if size < 0 {
		return Header{}, kindErr(ErrCorrupt, "negative file size %d", size)
	}
	var head [24]byte
	want := int(min(int64(len(head)), size))
	n, err := r.ReadAt(head[:want], 0)
	if n < want && err != nil && !errors.Is(err, io.EOF) {
		return Header{}, fmt.Errorf("read GGUF header: %w", err)
	}
	if n < 4 || string(head[:4]) != "GGUF" {
		return Header{}, notGGUF(head[:n])
	}
	if n < len(head) {
		return Header{}, kindErr(ErrCorrupt, "truncated GGUF header (%d bytes); download the file again", size)
	}
	le := binary.LittleEndian
	version := le.Uint32(head[4:8])
	switch {
	case version&0xffff == 0 && version != 0:
		return Header{}, kindErr(ErrUnsupported, "GGUF version field %#x: a big-endian GGUF, which this little-endian machine cannot run; get a little-endian build", version)
	case version == 1:
		return Header{}, kindErr(ErrUnsupported, "GGUF version 1 is no longer supported (llama.cpp reads versions 2 and 3); convert the model again")
	case version < 2 || version > 3:
		return Header{}, kindErr(ErrUnsupported, "GGUF version %d is not supported (llama.cpp reads versions 2 and 3)", version)
	}
	h := Header{Version: int(version), Tensors: le.Uint64(head[8:16]), KVs: le.Uint64(head[16:24]), Alignment: defaultAlign}
	// Every key and tensor takes some bytes: counts the file cannot hold mean a damaged
	// header, and llama.cpp and the parser would allocate for them.
	if h.Tensors > maxTensors || h.KVs > maxKVs ||
		24+h.KVs*minKVBytes+h.Tensors*minTensorBytes > uint64(size) {
		return Header{}, kindErr(ErrCorrupt, "corrupt GGUF header (%d tensors, %d keys in %d bytes); download the file again",
			h.Tensors, h.KVs, size)
	}

	rd := &reader{br: bufio.NewReaderSize(io.NewSectionReader(r, 24, size-24), 64<<10), off: 24, size: size}
	kvs := make(map[string]kv, min(h.KVs, 256))
	order := make([]string, 0, min(h.KVs, 256))
	var arrayItems uint64
	for i := uint64(0); i < h.KVs && rd.err == nil; i++ {
		// gguf-parser-go trims keys and string values, so the check looks at them trimmed too.
		key := strings.TrimSpace(rd.str(maxKeyLen, maxKeyLen, "metadata key"))
		if rd.err != nil {
			break
		}
		if _, dup := kvs[key]; dup {
			return Header{}, kindErr(ErrCorrupt, "duplicate metadata key %q; the file is damaged", key)
		}
		e := kv{typ: rd.u32()}
		switch {
		case rd.err != nil:
		case e.typ == tArray:
			e.elem, e.n = rd.u32(), rd.u64()
			if rd.err != nil {
				break
			}
			if e.elem >= tCount || e.elem == tArray {
				return Header{}, kindErr(ErrCorrupt, "metadata key %q is an array of %s, which GGUF does not allow; the file is damaged", key, typeName(e.elem))
			}
			if arrayItems += e.n; e.n > maxArrayItems || arrayItems > maxArrayItems {
				return Header{}, kindErr(ErrCorrupt, "metadata key %q declares %d array items, more than any model has; the file is damaged", key, e.n)
			}
			if sz := scalarSize(e.elem); sz > 0 {
				rd.skip(e.n*sz, "metadata key "+quote(key))
			} else {
				for j := uint64(0); j < e.n && rd.err == nil; j++ {
					rd.skipStr(maxString, "metadata key "+quote(key))
				}
			}
		case e.typ == tString:
			// As written: llama.cpp compares names untrimmed, so " llama" or "gpt2 " is no
			// name it knows, and the check must see the spaces to say so.
			e.str = rd.str(maxString, maxKeptString, "metadata key "+quote(key))
		case e.typ < tCount:
			e.num = rd.uint(scalarSize(e.typ))
		default:
			return Header{}, kindErr(ErrCorrupt, "metadata key %q has value type %d, which GGUF does not define; the file is damaged or too new", key, e.typ)
		}
		if rd.off > maxHeaderBytes {
			return Header{}, kindErr(ErrCorrupt, "the metadata runs past %d MiB, more than any model has; the file is damaged", maxHeaderBytes>>20)
		}
		kvs[key] = e
		order = append(order, key)
	}
	if rd.err != nil {
		return Header{}, rd.err
	}
	if err := checkKeys(&h, kvs, order); err != nil {
		return Header{}, err
	}
	if h.Tensors == 0 && h.SplitCount <= 1 {
		return Header{}, kindErr(ErrUnsupported, "the file has no tensors (a vocabulary or metadata only GGUF), so there is no model to run; download the model itself")
	}

	// Tensor infos. llama.cpp requires each tensor's offset to be exactly where the one before
	// it ends, padded to the alignment; the data must lie inside the file.
	type span struct {
		name       string
		off, bytes uint64
	}
	names := make(map[string]struct{}, min(h.Tensors, 1024))
	spans := make([]span, 0, min(h.Tensors, 1024))
	align := uint64(h.Alignment)
	var next uint64 // where the next tensor must start, relative to the data section
	for i := uint64(0); i < h.Tensors && rd.err == nil; i++ {
		name := rd.str(maxNameLen, maxNameLen, fmt.Sprintf("name of tensor %d", i))
		if rd.err != nil {
			break
		}
		if _, dup := names[name]; dup {
			return Header{}, kindErr(ErrCorrupt, "duplicate tensor %q; the file is damaged", name)
		}
		names[name] = struct{}{}
		nd := rd.u32()
		if rd.err == nil && (nd == 0 || nd > maxDims) {
			return Header{}, kindErr(ErrCorrupt, "tensor %q has %d dimensions (llama.cpp allows 1 to %d); the file is damaged", name, nd, maxDims)
		}
		var dims [maxDims]uint64
		elems := uint64(1)
		for j := uint32(0); j < nd && rd.err == nil; j++ {
			dims[j] = rd.u64()
			if rd.err != nil {
				break
			}
			if dims[j] == 0 {
				return Header{}, kindErr(ErrCorrupt, "tensor %q has a zero dimension (shape %v); the file is damaged", name, dims[:nd])
			}
			hi, lo := bits.Mul64(elems, dims[j])
			if hi != 0 || lo >= math.MaxInt64 {
				return Header{}, kindErr(ErrCorrupt, "tensor %q has shape %v: more elements than a tensor can hold; the file is damaged", name, dims[:nd])
			}
			elems = lo
		}
		typ := Type(rd.u32())
		off := rd.u64()
		if rd.err != nil {
			break
		}
		tr, ok := typ.Traits()
		if !ok {
			return Header{}, kindErr(ErrUnsupported, "tensor %q has ggml type %d, which this llama.cpp (and olm) does not know; download another quantization", name, uint32(typ))
		}
		nbytes, err := tensorBytes(dims[:nd], tr)
		if err != nil {
			return Header{}, kindErr(ErrCorrupt, "tensor %q (%s, shape %v): %v; the file is damaged", name, tr.Name, dims[:nd], err)
		}
		switch {
		case off%align != 0:
			return Header{}, kindErr(ErrCorrupt, "tensor %q starts at data offset %d, not a multiple of the alignment %d; the file is damaged", name, off, align)
		case off != next:
			return Header{}, kindErr(ErrCorrupt, "tensor %q starts at data offset %d, but the tensors before it end at %d; the file is damaged", name, off, next)
		}
		padded := (nbytes + align - 1) / align * align
		if padded < nbytes || next+padded < next || next+padded > math.MaxInt64 {
			return Header{}, kindErr(ErrCorrupt, "tensor %q: the tensor data runs past any file size; the file is damaged", name)
		}
		if uint64(rd.off)+off+nbytes > uint64(size) { // the data starts after the infos
			return Header{}, kindErr(ErrCorrupt, "the file is truncated or corrupt: tensor %q (%d bytes) ends past byte %d of the %d-byte file; download it again",
				name, nbytes, uint64(rd.off)+off+nbytes, size)
		}
		next += padded
		spans = append(spans, span{name, off, nbytes})
		if rd.off > maxHeaderBytes {
			return Header{}, kindErr(ErrCorrupt, "the tensor infos run past %d MiB, more than any model has; the file is damaged", maxHeaderBytes>>20)
		}
	}
	if rd.err != nil {
		return Header{}, rd.err
	}
	h.HeaderEnd = rd.off
	h.DataOffset = (rd.off + h.Alignment - 1) / h.Alignment * h.Alignment
	h.DataEnd = h.DataOffset
	for _, s := range spans {
		end := uint64(h.DataOffset) + s.off + s.bytes
		if end > uint64(size) || end < s.off {
			return Header{}, kindErr(ErrCorrupt, "the file is truncated or corrupt: tensor %q ends at byte %d of a %d-byte file; download it again",
				s.name, end, size)
		}
		h.DataEnd = max(h.DataEnd, int64(end))
	}
	return h, nil
}

// tensorBytes is ggml_nbytes for a tensor of these dimensions, with every product checked
// for overflow (gguf-parser-go panics on one, llama.cpp wraps). It also refuses a first
// dimension that is not a whole number of blocks, as llama.cpp does.
func tensorBytes(dims []uint64, tr Traits) (uint64, error) {
	bs, ts := uint64(tr.BlockSize), uint64(tr.BlockBytes)
	if dims[0]%bs != 0 {
		return 0, fmt.Errorf("rows of %d elements are not a multiple of the block size %d", dims[0], bs)
	}
	mul := func(a, b uint64) (uint64, bool) {
		hi, lo := bits.Mul64(a, b)
		return lo, hi == 0 && lo <= math.MaxInt64
	}
	// gguf-parser-go computes dims[0]*typeSize before dividing by the block size.
	if _, ok := mul(dims[0], ts); !ok {
		return 0, fmt.Errorf("the row size overflows")
	}
	n, ok := mul(dims[0]/bs, ts)
	for _, d := range dims[1:] {
		if !ok {
			break
		}
		n, ok = mul(n, d)
	}
	if !ok {
		return 0, fmt.Errorf("the tensor's byte size overflows")
	}
	return n, nil
}

// reader reads the header front to back through a buffer, knowing how many bytes are left,
// so that no length read from the file is trusted beyond what the file holds.
type reader struct {
	br   *bufio.Reader
	off  int64
	size int64
	err  error
	buf  [8]byte
}

// fail records a read error: a short file is reported as truncated, anything else (a
// network error under a remote header) as itself.
func (r *reader) fail(err error, what string) {
	if r.err == nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		r.err = fmt.Errorf("read the %s at byte %d: %w", what, r.off, err)
	}
	r.truncated(what)
}

func (r *reader) truncated(what string) {
	if r.err == nil {
		r.err = kindErr(ErrCorrupt, "the file is truncated or corrupt: it ends at byte %d, inside the %s; download it again", r.size, what)
	}
}

// room reports whether n more bytes are in the file, failing with what otherwise.
func (r *reader) room(n uint64, what string) bool {
	if r.err != nil {
		return false
	}
	if n > uint64(r.size-r.off) {
		r.truncated(what)
		return false
	}
	return true
}

func (r *reader) uint(n uint64) uint64 {
	if !r.room(n, "header") {
		return 0
	}
	if _, err := io.ReadFull(r.br, r.buf[:n]); err != nil {
		r.fail(err, "header")
		return 0
	}
	r.off += int64(n)
	var v uint64
	for i := int(n) - 1; i >= 0; i-- {
		v = v<<8 | uint64(r.buf[i])
	}
	return v
}

func (r *reader) u32() uint32 { return uint32(r.uint(4)) }
func (r *reader) u64() uint64 { return r.uint(8) }

func (r *reader) skip(n uint64, what string) {
	if !r.room(n, what) {
		return
	}
	if _, err := r.br.Discard(int(n)); err != nil {
		r.fail(err, what)
		return
	}
	r.off += int64(n)
}

// strLen reads a string's length and checks it against limit and the bytes left.
func (r *reader) strLen(limit uint64, what string) (uint64, bool) {
	n := r.u64()
	if r.err != nil {
		return 0, false
	}
	if n > limit {
		r.err = kindErr(ErrCorrupt, "the %s is %d bytes long (at most %d make sense); the file is damaged", what, n, limit)
		return 0, false
	}
	return n, r.room(n, what)
}

// str reads a string of at most limit bytes and returns its first keep bytes.
func (r *reader) str(limit, keep uint64, what string) string {
	n, ok := r.strLen(limit, what)
	if !ok {
		return ""
	}
	b := make([]byte, min(n, keep))
	if _, err := io.ReadFull(r.br, b); err != nil {
		r.fail(err, what)
		return ""
	}
	r.off += int64(len(b))
	r.skip(n-uint64(len(b)), what)
	return string(b)
}

func (r *reader) skipStr(limit uint64, what string) {
	if n, ok := r.strLen(limit, what); ok {
		r.skip(n, what)
	}
}

func quote(s string) string { return fmt.Sprintf("%q", s) }
