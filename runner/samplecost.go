package runner

/*
#include <stdlib.h>
#include "llama.h"
#include "loop.h"

// olm_finite_steps runs the finite check of olm_sample n times over x.
static int olm_finite_steps(const float *x, int n_vocab, int n) {
	int ok = 0;
	for (int s = 0; s < n; s++) ok += olm_finite(x, n_vocab);
	return ok;
}

// olm_sample_steps draws n tokens with chain from pseudo-random logits over the whole
// vocabulary, accepting each, as a generation step would after a decode.
static void olm_sample_steps(struct llama_sampler *chain, int n_vocab, int n, unsigned seed,
                             llama_token_data *buf) {
	for (int s = 0; s < n; s++) {
		for (int i = 0; i < n_vocab; i++) {
			seed = seed * 1664525u + 1013904223u;
			buf[i].id = i;
			buf[i].logit = (float)(seed >> 8) / (float)(1u << 24) * 8.0f;
			buf[i].p = 0;
		}
		llama_token_data_array cur = { buf, (size_t)n_vocab, -1, 0 };
		llama_sampler_apply(chain, &cur);
		if (cur.selected < 0 || cur.selected >= (int64_t)cur.size) continue;
		llama_sampler_accept(chain, cur.data[cur.selected].id);
	}
}
*/
import "C"

import (
	"time"
	"unsafe"
)

// SampleCost is the mean time the sampler chain for p takes per token on m's vocabulary,
// measured on pseudo-random logits without decoding anything: what sampling (a grammar,
// say) adds to each generated token.
// With grammarFirst the grammar sampler runs first on the whole vocabulary every step, as
// in llama.cpp's common sampler, instead of olm's lazy check (lazygrammar.h).
func SampleCost(m *Model, p SamplingParams, steps int, grammarFirst bool) (time.Duration, error) {
	s, err := newSampler(m, p, !grammarFirst)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	n := m.NVocab()
	buf := C.malloc(C.size_t(n) * C.size_t(unsafe.Sizeof(C.llama_token_data{})))
	defer C.free(buf)
	start := time.Now()
	C.olm_sample_steps(s.s, C.int(n), C.int(steps), 12345, (*C.llama_token_data)(buf))
	return time.Since(start) / time.Duration(max(steps, 1)), nil
}

// FiniteCheckCost is the mean time olm_sample's check that the logits are finite takes
// per token for a vocabulary of n (see loop.h), to weigh against SampleCost.
func FiniteCheckCost(n, steps int) time.Duration {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(i%97) - 48
	}
	start := time.Now()
	C.olm_finite_steps((*C.float)(unsafe.Pointer(&x[0])), C.int(n), C.int(steps))
	return time.Since(start) / time.Duration(max(steps, 1))
}
