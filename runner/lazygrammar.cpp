// C++ only to catch what llama.cpp's grammar throws: accepting a token its stacks cannot
// take throws std::runtime_error, which would abort the process if it crossed the C API.
// A sampler whose grammar threw is broken: it allows only end-of-generation from then on,
// so the answer ends, and the caller's parse reports it, instead of olm crashing.
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <exception>
#include "lazygrammar.h"

struct lazy {
	struct llama_sampler *constraints, *rest;
	const struct llama_vocab *vocab;
	llama_token_data *copy;
	size_t cap;
	bool broken;
};

// only_eog masks every token but the end-of-generation ones.
static void only_eog(const struct lazy *l, llama_token_data_array *cur) {
	for (size_t i = 0; i < cur->size; i++) {
		if (!llama_vocab_is_eog(l->vocab, cur->data[i].id)) cur->data[i].logit = -INFINITY;
	}
}

static const char *lazy_name(const struct llama_sampler *s) { (void)s; return "olm-lazy-grammar"; }
static void apply_constraints(struct lazy *l, llama_token_data_array *cur);

static void lazy_accept(struct llama_sampler *s, llama_token tok) {
	struct lazy *l = (struct lazy *)s->ctx;
	if (!l->broken) {
		try {
			llama_sampler_accept(l->constraints, tok);
		} catch (const std::exception &) {
			l->broken = true;
		}
	}
	llama_sampler_accept(l->rest, tok);
}

static void apply_constraints(struct lazy *l, llama_token_data_array *cur) {
	if (!l->broken) {
		try {
			llama_sampler_apply(l->constraints, cur);
			return;
		} catch (const std::exception &) {
			l->broken = true;
		}
	}
	only_eog(l, cur);
}

static void lazy_apply(struct llama_sampler *s, llama_token_data_array *cur) {
	struct lazy *l = (struct lazy *)s->ctx;
	if (l->broken) {
		only_eog(l, cur);
		llama_sampler_apply(l->rest, cur);
		return;
	}
	if (cur->size > l->cap) {
		llama_token_data *p = (llama_token_data *)realloc(l->copy, cur->size * sizeof *p);
		if (p == NULL) { // no room for the fast path: mask first
			apply_constraints(l, cur);
			llama_sampler_apply(l->rest, cur);
			return;
		}
		l->copy = p;
		l->cap = cur->size;
	}
	memcpy(l->copy, cur->data, cur->size * sizeof *cur->data);
	llama_token_data_array c = { l->copy, cur->size, -1, cur->sorted };
	llama_sampler_apply(l->rest, &c);
	if (c.selected >= 0 && (size_t)c.selected < c.size) {
		llama_token_data one = c.data[c.selected];
		llama_token_data_array single = { &one, 1, -1, false };
		apply_constraints(l, &single);
		if (!l->broken && single.data[0].logit != -INFINITY) {
			memcpy(cur->data, c.data, c.size * sizeof *c.data);
			cur->size = c.size;
			cur->selected = c.selected;
			cur->sorted = c.sorted;
			return;
		}
	}
	apply_constraints(l, cur);
	llama_sampler_apply(l->rest, cur);
}

static void lazy_reset(struct llama_sampler *s) {
	struct lazy *l = (struct lazy *)s->ctx;
	l->broken = false;
	llama_sampler_reset(l->constraints);
	llama_sampler_reset(l->rest);
}

static void lazy_free(struct llama_sampler *s) {
	struct lazy *l = (struct lazy *)s->ctx;
	llama_sampler_free(l->constraints);
	llama_sampler_free(l->rest);
	free(l->copy);
	free(l);
}

static struct llama_sampler *lazy_clone(const struct llama_sampler *s);

static const struct llama_sampler_i lazy_iface = {
	lazy_name, lazy_accept, lazy_apply, lazy_reset, lazy_clone, lazy_free,
};

extern "C" struct llama_sampler *olm_lazy_init(struct llama_sampler *constraints, struct llama_sampler *rest,
                                               const struct llama_vocab *vocab) {
	struct lazy *l = (struct lazy *)calloc(1, sizeof *l);
	if (l == NULL) return NULL;
	l->constraints = constraints;
	l->rest = rest;
	l->vocab = vocab;
	return llama_sampler_init(&lazy_iface, l);
}

static struct llama_sampler *lazy_clone(const struct llama_sampler *s) {
	const struct lazy *l = (const struct lazy *)s->ctx;
	struct llama_sampler *c = olm_lazy_init(llama_sampler_clone(l->constraints), llama_sampler_clone(l->rest), l->vocab);
	if (c != NULL) ((struct lazy *)c->ctx)->broken = l->broken;
	return c;
}
