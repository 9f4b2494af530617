// cbench.h: "C direct", the reference olm's speed claims are measured against. A plain C
// loop over llama.cpp's API with llama-bench's and llama-batched-bench's method and nothing
// of olm's in it: a fresh KV cache per run, random tokens, a ggml threadpool attached as
// llama-bench does, only llama_decode (and the synchronisation after each generated step)
// timed, no sampling. Compiled into olm's binary so that it links the very same ggml.
#ifndef OLM_CBENCH_H
#define OLM_CBENCH_H
#include <stdint.h>
#include <time.h>
#include "llama.h"
#include "ggml-cpu.h"

static inline double olm_cb_now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// olm_cbench runs n_seq sequences: each decodes n_prompt random tokens (in n_batch chunks),
// then n_gen steps each decode one token of every sequence together. It does one warm-up
// and reps timed runs and returns the mean prompt and generation seconds. rc != 0 on error.
static int olm_cbench(struct llama_model *model, int n_seq, int n_prompt, int n_gen, int n_batch,
                      int n_threads, int reps, double *t_pp, double *t_tg) {
	struct llama_context_params cp = llama_context_default_params();
	cp.n_ctx = n_seq * (n_prompt + n_gen + 1);
	cp.n_batch = n_batch;
	cp.n_ubatch = n_batch < 512 ? n_batch : 512;
	cp.n_seq_max = n_seq;
	cp.kv_unified = n_seq > 1;
	cp.n_threads = n_threads;
	cp.n_threads_batch = n_threads;
	cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
	struct llama_context *ctx = llama_init_from_model(model, cp);
	if (!ctx) return -1;
	struct ggml_threadpool_params tpp = ggml_threadpool_params_default(n_threads);
	struct ggml_threadpool *tp = ggml_threadpool_new(&tpp);
	llama_attach_threadpool(ctx, tp, NULL);
	const struct llama_vocab *vocab = llama_model_get_vocab(model);
	int n_vocab = llama_vocab_n_tokens(vocab);
	int cap = n_batch > n_seq ? n_batch : n_seq;
	struct llama_batch b = llama_batch_init(cap, 0, 1);
	unsigned seed = 42;
	int rc = 0;
	*t_pp = *t_tg = 0;
	for (int r = 0; r <= reps && rc == 0; r++) {
		llama_memory_clear(llama_get_memory(ctx), 1);
		double t0 = olm_cb_now();
		// Prompts: chunks of n_batch tokens across the sequences, logits at each prompt's end.
		b.n_tokens = 0;
		for (int s = 0; s < n_seq && rc == 0; s++) {
			for (int i = 0; i < n_prompt; i++) {
				seed ^= seed << 13; seed ^= seed >> 17; seed ^= seed << 5;
				int k = b.n_tokens++;
				b.token[k] = (i == 0 && llama_vocab_get_add_bos(vocab)) ? llama_vocab_bos(vocab) : (llama_token)(seed % n_vocab);
				b.pos[k] = i; b.n_seq_id[k] = 1; b.seq_id[k][0] = s; b.logits[k] = i == n_prompt - 1;
				if (b.n_tokens == n_batch) { rc = llama_decode(ctx, b); b.n_tokens = 0; }
			}
		}
		if (rc == 0 && b.n_tokens > 0) rc = llama_decode(ctx, b);
		llama_synchronize(ctx);
		double t1 = olm_cb_now();
		for (int g = 0; g < n_gen && rc == 0; g++) {
			b.n_tokens = 0;
			for (int s = 0; s < n_seq; s++) {
				seed ^= seed << 13; seed ^= seed >> 17; seed ^= seed << 5;
				int k = b.n_tokens++;
				b.token[k] = (llama_token)(seed % n_vocab);
				b.pos[k] = n_prompt + g; b.n_seq_id[k] = 1; b.seq_id[k][0] = s; b.logits[k] = 1;
			}
			rc = llama_decode(ctx, b);
			llama_synchronize(ctx);
		}
		double t2 = olm_cb_now();
		if (r > 0) { *t_pp += (t1 - t0) / reps; *t_tg += (t2 - t1) / reps; }
	}
	llama_batch_free(b);
	llama_free(ctx);
	ggml_threadpool_free(tp);
	return rc;
}
#endif
