package runner

/*
#include <stdlib.h>
#include "llama.h"

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
