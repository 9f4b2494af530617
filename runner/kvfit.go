package runner

/*
#include "llama.h"

// olm_kv_bytes is the KV cache of n_ctx tokens in bytes, as llama.cpp lays it out for
// standard attention: per layer, n_head_kv * head_dim elements of K and of V per token.
static double olm_kv_bytes(const struct llama_model *m, double n_ctx, enum ggml_type tk, enum ggml_type tv) {
	int32_t n_head = llama_model_n_head(m), n_head_kv = llama_model_n_head_kv(m);
	if (n_head <= 0 || n_head_kv <= 0) return 0;
	double per_head = (double)llama_model_n_embd(m) / n_head;
	double elems = per_head * n_head_kv; // per layer and token, for K and for V alike
	double bytes_k = elems * ggml_type_size(tk) / ggml_blck_size(tk);
	double bytes_v = elems * ggml_type_size(tv) / ggml_blck_size(tv);
	return (double)llama_model_n_layer(m) * n_ctx * (bytes_k + bytes_v);
}
*/
import "C"

import "fmt"

// kvCacheBytes estimates the KV cache of ctx tokens with the given cache types.
func (m *Model) kvCacheBytes(ctx int, typeK, typeV C.enum_ggml_type) float64 {
	return float64(C.olm_kv_bytes(m.m, C.double(ctx), typeK, typeV))
}

// machineMemory is the RAM plus the GPUs' memory: more than any context can use.
func machineMemory() float64 {
	total := float64(totalRAM())
	for _, g := range GPUs() {
		total += float64(g.TotalBytes)
	}
	return total
}

// checkKVFits refuses a context whose KV cache alone exceeds all the machine's memory:
// llama.cpp would spend a long time failing to allocate it (or get the process killed).
func checkKVFits(ctx int, need, memory float64) error {
	if memory <= 0 || need <= memory {
		return nil
	}
	gib := func(b float64) string { return fmt.Sprintf("%.1f GiB", b/(1<<30)) }
	return fmt.Errorf("--ctx %d: the KV cache alone needs %s, more than this machine's %s of memory: lower --ctx", ctx, gib(need), gib(memory))
}
