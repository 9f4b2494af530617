#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "lazygrammar.h"

struct lazy {
	struct llama_sampler *constraints, *rest;
	llama_token_data *copy;
	size_t cap;
};

static const char *lazy_name(const struct llama_sampler *s) { (void)s; return "olm-lazy-grammar"; }

static void lazy_accept(struct llama_sampler *s, llama_token tok) {
	struct lazy *l = s->ctx;
	llama_sampler_accept(l->constraints, tok);
	llama_sampler_accept(l->rest, tok);
}

static void lazy_apply(struct llama_sampler *s, llama_token_data_array *cur) {
	struct lazy *l = s->ctx;
	if (cur->size > l->cap) {
		llama_token_data *p = realloc(l->copy, cur->size * sizeof *p);
		if (p == NULL) { // no room for the fast path: mask first
			llama_sampler_apply(l->constraints, cur);
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
		llama_token_data_array single = { &one, 1, -1, 0 };
		llama_sampler_apply(l->constraints, &single);
		if (single.data[0].logit != -INFINITY) {
			memcpy(cur->data, c.data, c.size * sizeof *c.data);
			cur->size = c.size;
			cur->selected = c.selected;
			cur->sorted = c.sorted;
			return;
		}
	}
	llama_sampler_apply(l->constraints, cur);
	llama_sampler_apply(l->rest, cur);
}

static void lazy_reset(struct llama_sampler *s) {
	struct lazy *l = s->ctx;
	llama_sampler_reset(l->constraints);
	llama_sampler_reset(l->rest);
}

static void lazy_free(struct llama_sampler *s) {
	struct lazy *l = s->ctx;
	llama_sampler_free(l->constraints);
	llama_sampler_free(l->rest);
	free(l->copy);
	free(l);
}

static struct llama_sampler *lazy_clone(const struct llama_sampler *s);

static const struct llama_sampler_i lazy_iface = {
	lazy_name, lazy_accept, lazy_apply, lazy_reset, lazy_clone, lazy_free,
};

struct llama_sampler *olm_lazy_init(struct llama_sampler *constraints, struct llama_sampler *rest) {
	struct lazy *l = calloc(1, sizeof *l);
	if (l == NULL) return NULL;
	l->constraints = constraints;
	l->rest = rest;
	return llama_sampler_init(&lazy_iface, l);
}

static struct llama_sampler *lazy_clone(const struct llama_sampler *s) {
	const struct lazy *l = s->ctx;
	return olm_lazy_init(llama_sampler_clone(l->constraints), llama_sampler_clone(l->rest));
}
