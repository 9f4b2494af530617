package runner

/*
#include <string.h>
#include "llama.h"
#include "loop.h"

// olm_decode_outputs decodes n tokens at positions pos0.. on sequence 0, asking for the
// logits of every position >= first, and copies them (n_vocab floats per output, in
// position order) to dst, setting *n_out. It returns llama_decode's code.
static int olm_decode_outputs(struct llama_context *ctx, struct llama_batch *b, const llama_token *toks,
		int n, int pos0, int first, float *dst, int n_vocab, int *n_outputs) {
	int n_out = 0;
	b->n_tokens = n;
	for (int i = 0; i < n; i++) {
		b->token[i] = toks[i];
		b->pos[i] = pos0 + i;
		b->n_seq_id[i] = 1;
		b->seq_id[i][0] = 0;
		b->logits[i] = pos0 + i >= first;
		n_out += b->logits[i];
	}
	*n_outputs = n_out;
	int rc = llama_decode(ctx, *b);
	if (rc != 0) return rc;
	if (n_out > 0) memcpy(dst, llama_get_logits(ctx), sizeof(float) * (size_t)n_out * (size_t)n_vocab);
	// NaN scores make a perplexity of NaN: a damaged model, said as sampling says it.
	for (int i = 0; i < n_out; i++) {
		if (!olm_finite(dst + (size_t)i * n_vocab, n_vocab)) return OLM_BAD_LOGITS;
	}
	return 0;
}
*/
import "C"

import (
	"context"
	"fmt"
	"unsafe"
)

// EvalWindow scores one window as llama-perplexity does: it empties the KV cache, decodes
// toks at positions 0..len(toks)-1, and copies the logits of positions first.. into dst,
// NVocab floats per position. The cache is emptied again afterwards, so a later Generate
// starts clean. dst must hold (len(toks)-first)*NVocab floats.
func (c *Context) EvalWindow(ctx context.Context, toks []Token, first int, dst []float32) error {
	if c == nil || c.c == nil {
		return errClosed
	}
	nv := c.model.NVocab()
	switch {
	case len(toks) == 0 || len(toks) > c.nCtx:
		return fmt.Errorf("eval window: %d tokens do not fit in --ctx %d", len(toks), c.nCtx)
	case first < 0 || first >= len(toks):
		return fmt.Errorf("eval window: first scored position %d is outside 0..%d", first, len(toks)-1)
	case len(dst) < (len(toks)-first)*nv:
		return fmt.Errorf("eval window: room for %d logits, need %d", len(dst), (len(toks)-first)*nv)
	}
	for _, t := range toks {
		if t < 0 || int(t) >= nv {
			return fmt.Errorf("eval window: token %d is not in the model's vocabulary of %d", t, nv)
		}
	}
	// A batch of its own: the context's batch belongs to the generation loop and asks for
	// one output per decode.
	batch := C.llama_batch_init(C.int32_t(c.nBatch), 0, 1)
	defer C.llama_batch_free(batch)
	c.Reset()
	defer c.Reset()
	out := 0
	for pos := 0; pos < len(toks); {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(len(toks)-pos, c.nBatch)
		var dp *C.float
		if pos+n > first {
			dp = (*C.float)(unsafe.Pointer(&dst[out*nv]))
		}
		var got C.int
		rc := C.olm_decode_outputs(c.c, &batch, (*C.llama_token)(unsafe.Pointer(&toks[pos])), C.int(n), C.int(pos),
			C.int(first), dp, C.int(nv), &got)
		if rc != 0 {
			return decodeError(rc)
		}
		out += int(got)
		pos += n
	}
	return nil
}
