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

// OLM_BAD_LOGITS is the step's result when the model scored the next token with NaN or
// infinity: a damaged file (NaN weights, a RoPE base of 0, ...). llama.cpp's samplers
// assert or sort NaNs (undefined behaviour) on such logits, so none of them sees them.
#define OLM_BAD_LOGITS (-1000)

// olm_finite reports whether all n scores are finite. It tests the exponent bits, an
// integer loop the compiler vectorises: a few microseconds for a 150k vocabulary, next to
// milliseconds of decode.
static inline int olm_finite(const float *x, int n) {
	unsigned bad = 0;
	for (int i = 0; i < n; i++) {
		unsigned u;
		__builtin_memcpy(&u, &x[i], sizeof u);
		bad |= (u & 0x7f800000u) == 0x7f800000u;
	}
	return !bad;
}

// olm_sample samples the next token from the logits at batch index idx into *out and
// renders its text; OLM_BAD_LOGITS when the logits are not finite.
static inline int olm_sample(struct llama_context *ctx, struct llama_sampler *smpl, const struct llama_vocab *vocab,
                             int idx, llama_token *out, char *piece, int cap, int *piece_len) {
	const float *l = llama_get_logits_ith(ctx, idx);
	if (l == NULL || !olm_finite(l, llama_vocab_n_tokens(vocab))) return OLM_BAD_LOGITS;
	llama_token t = llama_sampler_sample(smpl, ctx, idx);
	int n = llama_token_to_piece(vocab, t, piece, cap, 0, 0);
	*piece_len = n < 0 ? 0 : n;
	*out = t;
	return 0;
}

// olm_step decodes the token just sampled at pos and samples the next one.
static inline int olm_step(struct llama_context *ctx, struct llama_batch *b, struct llama_sampler *smpl,
                    const struct llama_vocab *vocab, llama_token tok, int pos,
                    llama_token *next, char *piece, int cap, int *piece_len) {
	int rc = olm_decode(ctx, b, &tok, 1, pos, 1);
	if (rc != 0) return rc;
	return olm_sample(ctx, smpl, vocab, -1, next, piece, cap, piece_len);
}

static inline void olm_kv_trim(struct llama_context *ctx, int from) {
	llama_memory_seq_rm(llama_get_memory(ctx), 0, from, -1);
}
// olm_rand is a small xorshift generator for benchmark tokens; the values do not matter,
// only that the model sees varied tokens, as llama-bench's rand() gives it.
static inline unsigned olm_rand(unsigned *s) {
	unsigned x = *s;
	x ^= x << 13; x ^= x >> 17; x ^= x << 5;
	return *s = x;
}

// olm_bench_prompt decodes n random tokens from position pos0 in batches of n_batch, as
// llama-bench's test_prompt does (BOS first when the model adds one).
static inline int olm_bench_prompt(struct llama_context *ctx, struct llama_batch *b, llama_token *buf,
                                   int n, int n_batch, int pos0, unsigned *seed) {
	const struct llama_vocab *vocab = llama_model_get_vocab(llama_get_model(ctx));
	int n_vocab = llama_vocab_n_tokens(vocab);
	for (int done = 0; done < n;) {
		int k = n - done < n_batch ? n - done : n_batch;
		for (int i = 0; i < k; i++) buf[i] = olm_rand(seed) % n_vocab;
		if (done == 0 && pos0 == 0 && llama_vocab_get_add_bos(vocab)) buf[0] = llama_vocab_bos(vocab);
		int rc = olm_decode(ctx, b, buf, k, pos0 + done, 1);
		if (rc != 0) return rc;
		done += k;
	}
	llama_synchronize(ctx);
	return 0;
}

// olm_bench_gen decodes n single random tokens, synchronising after each, as llama-bench's
// test_gen does.
static inline int olm_bench_gen(struct llama_context *ctx, struct llama_batch *b, int n, int pos0, unsigned *seed) {
	const struct llama_vocab *vocab = llama_model_get_vocab(llama_get_model(ctx));
	int n_vocab = llama_vocab_n_tokens(vocab);
	llama_token t = llama_vocab_get_add_bos(vocab) ? llama_vocab_bos(vocab) : (llama_token)(olm_rand(seed) % n_vocab);
	for (int i = 0; i < n; i++) {
		int rc = olm_decode(ctx, b, &t, 1, pos0 + i, 1);
		if (rc != 0) return rc;
		llama_synchronize(ctx);
		t = olm_rand(seed) % n_vocab;
	}
	return 0;
}
// olm_decode_sample decodes the batch as the caller filled it, then draws one token for each
// of n sequences: from the logits at batch index idx[i] with sampler smpls[i], its text
// rendered into pieces + i*cap. One cgo call per step whatever the number of sequences.
static inline int olm_decode_sample(struct llama_context *ctx, struct llama_batch *b, int n, const int *idx,
                                    struct llama_sampler **smpls, llama_token *out, char *pieces, int cap, int *lens) {
	int rc = llama_decode(ctx, *b);
	if (rc != 0) return rc;
	const struct llama_vocab *vocab = llama_model_get_vocab(llama_get_model(ctx));
	for (int i = 0; i < n; i++) {
		rc = olm_sample(ctx, smpls[i], vocab, idx[i], &out[i], pieces + (size_t)i * cap, cap, &lens[i]);
		if (rc != 0) return rc;
	}
	return 0;
}
#endif
