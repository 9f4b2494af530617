// loop.h: the C side of olm's generation loop, shared by the Go files that call it.
#ifndef OLM_LOOP_H
#define OLM_LOOP_H
#include "llama.h"

// The C side of the generation loop. Each helper does a whole step in one cgo call so the
// Go loop adds next to nothing per token (see README "Speed").

// olm_decode fills the batch with n tokens at positions pos0.. on sequence 0 and decodes
// them; only the last token's logits are requested when want_logits is set.
static inline int olm_decode(struct llama_context *ctx, struct llama_batch *b, const llama_token *toks,
                      int n, int pos0, _Bool want_logits) {
	b->n_tokens = n;
	for (int i = 0; i < n; i++) {
		b->token[i] = toks[i];
		b->pos[i] = pos0 + i;
		b->n_seq_id[i] = 1;
		b->seq_id[i][0] = 0;
		b->logits[i] = 0;
	}
	if (want_logits && n > 0) b->logits[n - 1] = 1;
	return llama_decode(ctx, *b);
}

// olm_sample samples the next token from the last logits and renders its text.
static inline llama_token olm_sample(struct llama_context *ctx, struct llama_sampler *smpl,
                              const struct llama_vocab *vocab, char *piece, int cap, int *piece_len) {
	llama_token t = llama_sampler_sample(smpl, ctx, -1);
	int n = llama_token_to_piece(vocab, t, piece, cap, 0, 0);
	*piece_len = n < 0 ? 0 : n;
	return t;
}

// olm_step decodes the token just sampled at pos and samples the next one.
static inline int olm_step(struct llama_context *ctx, struct llama_batch *b, struct llama_sampler *smpl,
                    const struct llama_vocab *vocab, llama_token tok, int pos,
                    llama_token *next, char *piece, int cap, int *piece_len) {
	int rc = olm_decode(ctx, b, &tok, 1, pos, 1);
	if (rc != 0) return rc;
	*next = olm_sample(ctx, smpl, vocab, piece, cap, piece_len);
	return 0;
}

static inline void olm_kv_trim(struct llama_context *ctx, int from) {
	llama_memory_seq_rm(llama_get_memory(ctx), 0, from, -1);
}
#endif
