// lazygrammar.h: grammar-constrained sampling that checks only the token it draws.
//
// llama.cpp's grammar sampler tests every token of the vocabulary against the grammar on
// every step (2 ms per token for a 32,000-token vocabulary on this machine's CPU). Most
// drawn tokens are valid anyway, so this sampler first draws from the unconstrained chain
// and asks the constraints about that one token; only when they refuse it does it mask
// the whole vocabulary and draw again. Drawing x from p and keeping it when valid, else
// drawing from p restricted to the valid tokens, gives each valid token p(x)/P(valid):
// the same distribution as masking first (llama.cpp's common sampler did this until
// 2025; truncation samplers such as top-k see the unmasked list first, as they did).
#ifndef OLM_LAZYGRAMMAR_H
#define OLM_LAZYGRAMMAR_H
#include "llama.h"

#ifdef __cplusplus
extern "C" {
#endif
// olm_lazy_init takes ownership of constraints (a chain: the grammar, the UTF-8 guard)
// and rest (the chain that draws); vocab tells end-of-generation tokens apart.
struct llama_sampler *olm_lazy_init(struct llama_sampler *constraints, struct llama_sampler *rest,
                                    const struct llama_vocab *vocab);
#ifdef __cplusplus
}
#endif
#endif
