package runner

/*
#include <stdlib.h>
#include "llama.h"
#include "utf8guard.h"
#include "lazygrammar.h"

char *olm_grammar_check(const char *src, const char *root, const struct llama_vocab *vocab);
*/
import "C"

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"sync"
	"unsafe"
)

// SamplingParams choose the next token. The zero value is not useful; start from
// DefaultSampling, which matches llama.cpp's defaults.
type SamplingParams struct {
	Temp          float64 // <= 0: greedy
	TopK          int     // <= 0: off
	TopP          float64 // >= 1: off
	MinP          float64 // <= 0: off
	RepeatPenalty float64 // 1: off
	RepeatLastN   int     // tokens the penalties look back over; -1: the whole context
	FreqPenalty   float64
	PresPenalty   float64
	Seed          int64 // < 0: random

	// Grammar, GBNF text, restricts every token to those that keep the answer a sentence of
	// it ("": unconstrained). GrammarRoot is its start rule ("": "root").
	Grammar     string
	GrammarRoot string
	// GrammarTriggers make the grammar lazy: text is free until one of these words is
	// written, and from that word on the grammar holds (tool_choice "auto": prose, or a
	// call that parses). The grammar must start with the word.
	GrammarTriggers []string
}

// DefaultSampling mirrors llama.cpp's common defaults.
func DefaultSampling() SamplingParams {
	return SamplingParams{Temp: 0.8, TopK: 40, TopP: 0.95, MinP: 0.05, RepeatPenalty: 1.0, RepeatLastN: 64, Seed: -1}
}

// Validate rejects values llama.cpp would silently misuse.
func (p SamplingParams) Validate() error {
	switch {
	case math.IsNaN(p.Temp) || p.Temp < 0:
		return fmt.Errorf("--temp %v: must be 0 (greedy) or more", p.Temp)
	case p.TopK < 0:
		return fmt.Errorf("--top-k %d: must be 0 (off) or more", p.TopK)
	case !(p.TopP > 0 && p.TopP <= 1):
		return fmt.Errorf("--top-p %v: must be in (0, 1]", p.TopP)
	case !(p.MinP >= 0 && p.MinP < 1):
		return fmt.Errorf("--min-p %v: must be in [0, 1)", p.MinP)
	case !(p.RepeatPenalty > 0):
		return fmt.Errorf("--repeat-penalty %v: must be above 0 (1 is off)", p.RepeatPenalty)
	case p.RepeatLastN < -1:
		return fmt.Errorf("--repeat-last-n %d: must be -1 (whole context), 0 (off) or more", p.RepeatLastN)
	case p.Seed > math.MaxUint32:
		return fmt.Errorf("--seed %d: must fit in 32 bits", p.Seed)
	}
	return nil
}

// Sampler is a llama.cpp sampler chain. Close frees it.
type Sampler struct {
	s      *C.struct_llama_sampler
	params SamplingParams
	rest   *C.struct_llama_sampler // with a grammar: the drawing chain inside s, which sees prompt tokens
}

// GrammarError is a grammar llama.cpp's parser refused.
type GrammarError struct {
	Reason string // llama.cpp's words
}

func (e *GrammarError) Error() string { return "grammar: " + e.Reason }

// errGrammarNeedsModel: the grammar sampler needs the vocabulary to know each token's text.
var errGrammarNeedsModel = errors.New("sampler: a grammar needs the model's vocabulary (use NewSamplerFor)")

// NewSampler builds a chain without a grammar: penalties, top-k, top-p, min-p, temperature,
// then a seeded draw (or greedy when Temp <= 0), the order llama.cpp's own tools use.
func NewSampler(p SamplingParams) (*Sampler, error) {
	if p.Grammar != "" {
		return nil, errGrammarNeedsModel
	}
	return NewSamplerFor(nil, p)
}

// NewSamplerFor builds the chain for model m. With a grammar, the grammar sampler and the
// UTF-8 guard constrain the draw as llama.cpp's common sampler places the grammar, before
// any other sampler, but lazily (lazygrammar.h): the drawn token is checked first, and
// the whole vocabulary is masked only when it is refused. An invalid grammar is a
// *GrammarError.
func NewSamplerFor(m *Model, p SamplingParams) (*Sampler, error) {
	return newSampler(m, p, true)
}

// newSampler builds the chain; lazy false puts the grammar first in one chain, as
// llama.cpp's common sampler does, only for SampleCost to measure against: that chain's
// Accept would show prompt tokens to the grammar.
func newSampler(m *Model, p SamplingParams, lazy bool) (*Sampler, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	initBackend()
	var gs *C.struct_llama_sampler
	if p.Grammar != "" {
		if m == nil {
			return nil, errGrammarNeedsModel
		}
		var err error
		if gs, err = newGrammar(m, p.Grammar, p.GrammarRoot, p.GrammarTriggers); err != nil {
			return nil, err
		}
	}
	rest := newChain()
	add := func(s *C.struct_llama_sampler) { C.llama_sampler_chain_add(rest, s) }
	if gs != nil && !lazy {
		add(gs) // first, then the guard: the whole vocabulary is masked on every step
		if t := m.utf8Table(); t != nil {
			if g := C.olm_utf8_guard_init(t); g != nil {
				add(g)
			}
		}
	}
	if p.RepeatPenalty != 1 || p.FreqPenalty != 0 || p.PresPenalty != 0 {
		add(C.llama_sampler_init_penalties(C.int32_t(p.RepeatLastN), C.float(p.RepeatPenalty), C.float(p.FreqPenalty), C.float(p.PresPenalty)))
	}
	if p.Temp <= 0 {
		add(C.llama_sampler_init_greedy())
	} else {
		if p.TopK > 0 {
			add(C.llama_sampler_init_top_k(C.int32_t(p.TopK)))
		}
		if p.TopP < 1 {
			add(C.llama_sampler_init_top_p(C.float(p.TopP), 1))
		}
		if p.MinP > 0 {
			add(C.llama_sampler_init_min_p(C.float(p.MinP), 1))
		}
		add(C.llama_sampler_init_temp(C.float(p.Temp)))
		seed := C.uint32_t(C.LLAMA_DEFAULT_SEED) // llama.cpp draws a random seed for this value
		if p.Seed >= 0 {
			seed = C.uint32_t(p.Seed)
		}
		add(C.llama_sampler_init_dist(seed))
	}
	if gs == nil || !lazy {
		return &Sampler{s: rest, params: p}, nil
	}
	constraints := newChain()
	C.llama_sampler_chain_add(constraints, gs)
	// llama.cpp's grammar decodes UTF-8 leniently; the guard keeps byte-fallback tokens
	// from spelling bytes that are no text (utf8guard.h).
	if t := m.utf8Table(); t != nil {
		if g := C.olm_utf8_guard_init(t); g != nil {
			C.llama_sampler_chain_add(constraints, g)
		}
	}
	top := C.olm_lazy_init(constraints, rest, m.vocab)
	if top == nil {
		C.llama_sampler_free(constraints)
		C.llama_sampler_free(rest)
		return nil, errors.New("sampler: out of memory")
	}
	return &Sampler{s: top, params: p, rest: rest}, nil
}

func newChain() *C.struct_llama_sampler {
	cp := C.llama_sampler_chain_default_params()
	cp.no_perf = true
	return C.llama_sampler_chain_init(cp)
}

// grammarMu keeps the parse and the read of its error together: llama.cpp reports why a
// grammar failed only in the process-wide log.
var grammarMu sync.Mutex

func newGrammar(m *Model, text, root string, triggers []string) (*C.struct_llama_sampler, error) {
	if root == "" {
		root = "root"
	}
	if strings.IndexByte(text, 0) >= 0 || strings.IndexByte(root, 0) >= 0 {
		return nil, &GrammarError{Reason: "contains a NUL byte"}
	}
	ct, cr := C.CString(text), C.CString(root)
	defer C.free(unsafe.Pointer(ct))
	defer C.free(unsafe.Pointer(cr))
	if why := C.olm_grammar_check(ct, cr, m.vocab); why != nil {
		msg := C.GoString(why)
		C.free(unsafe.Pointer(why))
		return nil, &GrammarError{Reason: shortReason(msg)}
	}
	grammarMu.Lock()
	defer grammarMu.Unlock()
	capt := captureErrors()
	defer capt.done()
	var gs *C.struct_llama_sampler
	if len(triggers) == 0 {
		gs = C.llama_sampler_init_grammar(m.vocab, ct, cr)
	} else {
		// llama.cpp's common sampler turns trigger words into this one pattern: the grammar
		// is fed the output from the first word on.
		quoted := make([]string, len(triggers))
		for i, w := range triggers {
			quoted[i] = regexp.QuoteMeta(w)
		}
		pat := C.CString(`^[\s\S]*?(` + strings.Join(quoted, "|") + `)[\s\S]*`)
		defer C.free(unsafe.Pointer(pat))
		gs = C.llama_sampler_init_grammar_lazy_patterns(m.vocab, ct, cr, &pat, 1, nil, 0)
	}
	if gs == nil {
		why := capt.done()
		if why == "" {
			// The left-recursion error is logged without a newline, so it waits in the
			// log's line buffer.
			why = takePartialLog()
		}
		if why == "" {
			why = "llama.cpp could not parse it"
		}
		return nil, &GrammarError{Reason: strings.TrimPrefix(why, "llama_grammar_init_impl: ")}
	}
	return gs, nil
}

// shortReason shortens the parser's messages, which quote the rest of the grammar ("expecting
// name at ..."), to one line of readable length.
func shortReason(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	return s
}

// Params are the parameters the chain was built with.
func (s *Sampler) Params() SamplingParams { return s.params }

// Reset forgets accepted tokens (penalty history).
func (s *Sampler) Reset() { C.llama_sampler_reset(s.s) }

// Accept records a token the sampler did not draw itself (a prompt token), so that
// penalties see it. The grammar never sees it: it constrains the answer, not the prompt.
func (s *Sampler) Accept(t Token) {
	if s.rest != nil {
		C.llama_sampler_accept(s.rest, C.llama_token(t))
		return
	}
	C.llama_sampler_accept(s.s, C.llama_token(t))
}

// Close frees the chain. Safe to call twice.
func (s *Sampler) Close() {
	if s != nil && s.s != nil {
		C.llama_sampler_free(s.s) // with a grammar this frees rest too
		s.s, s.rest = nil, nil
	}
}

// Prime readies the chain for a new answer to prompt: it forgets earlier tokens and, when
// penalties are on, shows it the prompt's last RepeatLastN tokens, as llama.cpp's tools do.
func (s *Sampler) Prime(prompt []Token) {
	s.Reset()
	if s.hasPenalties() {
		n := len(prompt)
		if s.params.RepeatLastN >= 0 {
			n = min(n, s.params.RepeatLastN)
		}
		for _, t := range prompt[len(prompt)-n:] {
			s.Accept(t)
		}
	}
}

func (s *Sampler) hasPenalties() bool {
	p := s.params
	return p.RepeatPenalty != 1 || p.FreqPenalty != 0 || p.PresPenalty != 0
}

type utf8Cache struct {
	once  sync.Once
	table *C.struct_olm_utf8_table
}

// utf8Table is built on first use and freed with the model.
func (m *Model) utf8Table() *C.struct_olm_utf8_table {
	m.utf8.once.Do(func() { m.utf8.table = C.olm_utf8_table_new(m.vocab) })
	return m.utf8.table
}
