#include <math.h>
#include <stdlib.h>
#include "utf8guard.h"

// next_range gives, for lead byte c, how many continuation bytes follow and the range the
// first of them must be in (RFC 3629's table); 0 continuations for ASCII, -1 for a byte
// that cannot start a character.
static int lead(unsigned char c, unsigned char *lo, unsigned char *hi) {
	*lo = 0x80; *hi = 0xBF;
	if (c < 0x80) return 0;
	if (c < 0xC2) return -1; // continuation bytes, and the overlong C0 and C1
	if (c < 0xE0) return 1;
	if (c == 0xE0) { *lo = 0xA0; return 2; }
	if (c == 0xED) { *hi = 0x9F; return 2; } // no surrogates
	if (c < 0xF0) return 2;
	if (c == 0xF0) { *lo = 0x90; return 3; }
	if (c < 0xF4) return 3;
	if (c == 0xF4) { *hi = 0x8F; return 3; } // nothing above U+10FFFF
	return -1;
}

// state is where a byte sequence stands: continuation bytes still owed, and the range
// the next one must be in.
struct state { int need; unsigned char lo, hi; };

// feed advances s over b; it returns 0 when b is not allowed there.
static int feed(struct state *s, unsigned char b) {
	if (s->need > 0) {
		if (b < s->lo || b > s->hi) return 0;
		s->need--; s->lo = 0x80; s->hi = 0xBF;
		return 1;
	}
	int n = lead(b, &s->lo, &s->hi);
	if (n < 0) return 0;
	s->need = n;
	return 1;
}

struct olm_utf8_table *olm_utf8_table_new(const struct llama_vocab *vocab) {
	struct olm_utf8_table *t = calloc(1, sizeof *t);
	if (!t) return NULL;
	t->n = llama_vocab_n_tokens(vocab);
	t->head = calloc(t->n, sizeof *t->head);
	t->len = calloc(t->n, 1);
	t->bad = calloc(t->n, 1);
	t->end = calloc(t->n, sizeof *t->end);
	if (!t->head || !t->len || !t->bad || !t->end) { olm_utf8_table_free(t); return NULL; }
	char buf[256];
	for (int id = 0; id < t->n; id++) {
		int len = llama_token_to_piece(vocab, id, buf, sizeof buf, 0, 0);
		if (len <= 0) continue;
		t->len[id] = (unsigned char)len;
		for (int i = 0; i < len && i < 4; i++) t->head[id][i] = (unsigned char)buf[i];
		// A token is bad when its text, after any leading continuation bytes (which
		// belong to a character an earlier token began), is not valid UTF-8 up to a
		// possibly unfinished last character.
		int i = 0;
		while (i < len && ((unsigned char)buf[i] & 0xC0) == 0x80) i++;
		struct state s = {0, 0x80, 0xBF};
		for (; i < len; i++) {
			if (!feed(&s, (unsigned char)buf[i])) { t->bad[id] = 1; break; }
		}
		t->end[id].need = (unsigned char)s.need;
		t->end[id].lo = s.lo;
		t->end[id].hi = s.hi;
	}
	return t;
}

void olm_utf8_table_free(struct olm_utf8_table *t) {
	if (!t) return;
	free(t->head); free(t->len); free(t->bad); free(t->end); free(t);
}

struct guard { const struct olm_utf8_table *t; struct state s; };

static const char *guard_name(const struct llama_sampler *smpl) { (void)smpl; return "olm-utf8"; }

static void guard_accept(struct llama_sampler *smpl, llama_token tok) {
	struct guard *g = smpl->ctx;
	const struct olm_utf8_table *t = g->t;
	if (tok < 0 || tok >= t->n || t->len[tok] == 0) return;
	int len = t->len[tok], k = 0;
	// First the bytes that finish a character an earlier token began...
	for (; k < len && k < 4 && g->s.need > 0; k++) {
		if (!feed(&g->s, t->head[tok][k])) { g->s.need = 0; break; }
	}
	// ...then the token's own characters, whose end state the table holds.
	if (k < len) {
		g->s.need = t->end[tok].need;
		g->s.lo = t->end[tok].lo;
		g->s.hi = t->end[tok].hi;
	}
}

// Candidates whose bytes cannot continue the text so far are masked.
static void guard_apply(struct llama_sampler *smpl, llama_token_data_array *cur) {
	struct guard *g = smpl->ctx;
	const struct olm_utf8_table *t = g->t;
	for (size_t i = 0; i < cur->size; i++) {
		llama_token id = cur->data[i].id;
		if (id < 0 || id >= t->n) continue;
		if (t->bad[id]) { cur->data[i].logit = -INFINITY; continue; }
		if (t->len[id] == 0) continue;
		if (g->s.need == 0) {
			if ((t->head[id][0] & 0xC0) == 0x80) cur->data[i].logit = -INFINITY; // nothing to continue
			continue;
		}
		struct state s = g->s;
		int n = t->len[id] < 4 ? t->len[id] : 4;
		for (int k = 0; k < n && s.need > 0; k++) {
			if (!feed(&s, t->head[id][k])) { cur->data[i].logit = -INFINITY; break; }
		}
	}
}

static void guard_reset(struct llama_sampler *smpl) {
	struct guard *g = smpl->ctx;
	g->s.need = 0;
}

static struct llama_sampler *guard_clone(const struct llama_sampler *smpl);

static void guard_free(struct llama_sampler *smpl) { free(smpl->ctx); }

static const struct llama_sampler_i guard_iface = {
	guard_name, guard_accept, guard_apply, guard_reset, guard_clone, guard_free,
};

struct llama_sampler *olm_utf8_guard_init(const struct olm_utf8_table *t) {
	struct guard *g = calloc(1, sizeof *g);
	if (!g) return NULL;
	g->t = t;
	g->s.lo = 0x80; g->s.hi = 0xBF;
	return llama_sampler_init(&guard_iface, g);
}

static struct llama_sampler *guard_clone(const struct llama_sampler *smpl) {
	const struct guard *src = smpl->ctx;
	struct llama_sampler *c = olm_utf8_guard_init(src->t);
	if (c) ((struct guard *)c->ctx)->s = src->s;
	return c;
}
