package runner

/*
#include <stdlib.h>
#include "loop.h"
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// The multi-sequence binding: a batch whose entries name their sequence, per-sequence KV
// cache operations, and a step that decodes once and samples every sequence. The engine
// (package engine) drives these; Generate keeps the single-sequence path on sequence 0.
// A context is driven either through Generate or through these, never both.

// Batch is a llama_batch the caller fills entry by entry. It writes straight into
// llama.cpp's arrays, so adding a token costs no cgo call and no allocation.
type Batch struct {
	b      C.struct_llama_batch
	tok    []C.llama_token
	pos    []C.llama_pos
	nSeq   []C.int32_t
	seq    []*C.llama_seq_id
	logits []C.int8_t
}

// NewBatch allocates room for n entries. Close frees it.
func NewBatch(n int) *Batch {
	b := &Batch{b: C.llama_batch_init(C.int32_t(n), 0, 1)}
	b.tok = unsafe.Slice(b.b.token, n)
	b.pos = unsafe.Slice(b.b.pos, n)
	b.nSeq = unsafe.Slice(b.b.n_seq_id, n)
	b.seq = unsafe.Slice(b.b.seq_id, n)
	b.logits = unsafe.Slice(b.b.logits, n)
	return b
}

// Cap is the most entries the batch holds.
func (b *Batch) Cap() int { return len(b.tok) }

// Len is the number of entries added since the last Clear.
func (b *Batch) Len() int { return int(b.b.n_tokens) }

// Clear empties the batch.
func (b *Batch) Clear() { b.b.n_tokens = 0 }

// Add appends token t at position pos of sequence seq, asking for its logits when want is
// set, and returns its index (what Logits and a Draws entry take). The batch must have room.
func (b *Batch) Add(t Token, pos, seq int, want bool) int {
	i := int(b.b.n_tokens)
	b.tok[i] = C.llama_token(t)
	b.pos[i] = C.llama_pos(pos)
	b.nSeq[i] = 1
	*b.seq[i] = C.llama_seq_id(seq)
	b.logits[i] = 0
	if want {
		b.logits[i] = 1
	}
	b.b.n_tokens++
	return i
}

// Close frees the batch. Safe to call twice.
func (b *Batch) Close() {
	if b != nil && b.tok != nil {
		C.llama_batch_free(b.b)
		b.tok = nil
	}
}

// Draws are the per-sequence samples of one step: for entry i, the batch index whose
// logits to sample, the sampler to use, and after the step the token drawn and its text.
// All in C memory, reused from step to step.
type Draws struct {
	idx    []C.int
	smpl   []*C.struct_llama_sampler
	out    []C.llama_token
	lens   []C.int
	pieces *C.char
	mem    []unsafe.Pointer
}

// NewDraws makes room for n samples per step. Close frees it.
func NewDraws(n int) *Draws {
	d := &Draws{}
	alloc := func(size uintptr) unsafe.Pointer {
		p := C.calloc(C.size_t(max(n, 1)), C.size_t(size))
		d.mem = append(d.mem, p)
		return p
	}
	d.idx = unsafe.Slice((*C.int)(alloc(unsafe.Sizeof(C.int(0)))), n)
	d.smpl = unsafe.Slice((**C.struct_llama_sampler)(alloc(unsafe.Sizeof((*C.struct_llama_sampler)(nil)))), n)
	d.out = unsafe.Slice((*C.llama_token)(alloc(unsafe.Sizeof(C.llama_token(0)))), n)
	d.lens = unsafe.Slice((*C.int)(alloc(unsafe.Sizeof(C.int(0)))), n)
	d.pieces = (*C.char)(alloc(pieceCap))
	return d
}

// Set makes entry i sample the logits of batch index at with s.
func (d *Draws) Set(i, at int, s *Sampler) {
	d.idx[i] = C.int(at)
	d.smpl[i] = s.s
}

// Token is the token entry i drew in the last step.
func (d *Draws) Token(i int) Token { return Token(d.out[i]) }

// Piece is the text of entry i's token (valid until the next step).
func (d *Draws) Piece(i int) []byte {
	return unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(d.pieces), i*pieceCap)), int(d.lens[i]))
}

// Close frees the draws. Safe to call twice.
func (d *Draws) Close() {
	for _, p := range d.mem {
		C.free(p)
	}
	d.mem = nil
}

// Step decodes b and then draws the first n entries of d, in one cgo call.
func (c *Context) Step(b *Batch, d *Draws, n int) error {
	if b.Len() == 0 {
		return nil
	}
	if n > len(d.idx) {
		return fmt.Errorf("step: %d samples, room for %d", n, len(d.idx))
	}
	rc := C.olm_decode_sample(c.c, &b.b, C.int(n), unsafe.SliceData(d.idx), unsafe.SliceData(d.smpl),
		unsafe.SliceData(d.out), d.pieces, C.int(pieceCap), unsafe.SliceData(d.lens))
	if rc != 0 {
		return decodeError(rc)
	}
	return nil
}

// Decode evaluates b without sampling (its logits stay readable through Logits).
func (c *Context) Decode(b *Batch) error {
	if b.Len() == 0 {
		return nil
	}
	if rc := C.llama_decode(c.c, b.b); rc != 0 {
		return decodeError(rc)
	}
	return nil
}

// Logits are the scores of batch entry i of the last decode, which must have asked for them.
// The slice is llama.cpp's and valid until the next decode.
func (c *Context) Logits(i int) []float32 {
	p := C.llama_get_logits_ith(c.c, C.int32_t(i))
	if p == nil {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(p)), c.model.NVocab())
}

// Seqs is the number of sequences the context decodes together.
func (c *Context) Seqs() int { return c.nSeq }

func (c *Context) mem() C.llama_memory_t { return C.llama_get_memory(c.c) }

// SeqRemove drops sequence seq's cells at positions [p0, p1) (p1 < 0: to the end). It
// reports false where the cache cannot drop part of a sequence (recurrent models).
func (c *Context) SeqRemove(seq, p0, p1 int) bool {
	return bool(C.llama_memory_seq_rm(c.mem(), C.llama_seq_id(seq), C.llama_pos(p0), C.llama_pos(p1)))
}

// SeqCopy makes dst share src's cells at positions [p0, p1): a prefix one sequence
// evaluated serves another without evaluating it again.
func (c *Context) SeqCopy(src, dst, p0, p1 int) {
	C.llama_memory_seq_cp(c.mem(), C.llama_seq_id(src), C.llama_seq_id(dst), C.llama_pos(p0), C.llama_pos(p1))
}

// SeqShift adds delta to the positions [p0, p1) of seq: after a SeqRemove of a middle
// range, the tail moves down to close the gap (llama.cpp re-rotates the keys).
func (c *Context) SeqShift(seq, p0, p1, delta int) {
	C.llama_memory_seq_add(c.mem(), C.llama_seq_id(seq), C.llama_pos(p0), C.llama_pos(p1), C.llama_pos(delta))
}

// SeqPosMax is the largest position seq holds, -1 when it holds none.
func (c *Context) SeqPosMax(seq int) int {
	return int(C.llama_memory_seq_pos_max(c.mem(), C.llama_seq_id(seq)))
}

// CanShift reports whether positions can be shifted (SeqShift) in this model's cache.
func (c *Context) CanShift() bool { return bool(C.llama_memory_can_shift(c.mem())) }
