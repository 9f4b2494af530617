package runner

// #include "llama.h"
import "C"

import (
	"sort"
	"strings"
	"sync"
)

// Segment is a piece of a prompt: template scaffolding, whose special-token text (like
// "<|im_start|>") becomes control tokens; text that must stay text (what a user typed); or
// tokens already known (an answer the model sampled).
type Segment struct {
	Text         string
	ParseSpecial bool
	Tokens       []Token // when set, used as they are
}

// specialTokens lists the vocabulary's control, user-defined and unknown tokens, longest
// text first: the tokens llama.cpp recognises in text when parse_special is on.
type specialToken struct {
	text string
	id   Token
}

type specialCache struct {
	once   sync.Once
	tokens []specialToken
}

func (m *Model) specials() []specialToken {
	m.special.once.Do(func() {
		const want = C.LLAMA_TOKEN_ATTR_CONTROL | C.LLAMA_TOKEN_ATTR_USER_DEFINED | C.LLAMA_TOKEN_ATTR_UNKNOWN
		for id := 0; id < m.NVocab(); id++ {
			if C.llama_vocab_get_attr(m.vocab, C.llama_token(id))&want == 0 {
				continue
			}
			if t := m.TokenText(Token(id)); t != "" {
				m.special.tokens = append(m.special.tokens, specialToken{t, Token(id)})
			}
		}
		sort.SliceStable(m.special.tokens, func(i, j int) bool { return len(m.special.tokens[i].text) > len(m.special.tokens[j].text) })
	})
	return m.special.tokens
}

// TokenizeSegments tokenizes a prompt made of segments exactly as llama.cpp would tokenize
// the whole text with parse_special on, except that special-token text inside a segment
// without ParseSpecial stays text. Tokenizing the segments one by one instead would differ:
// SentencePiece vocabularies add a space before every separately tokenized piece, so text
// runs are split only where a special token splits them, as llama.cpp does.
func (m *Model) TokenizeSegments(segs []Segment, addBOS bool) ([]Token, error) {
	var out []Token
	if addBOS && m.BOS() >= 0 {
		out = append(out, m.BOS())
	}
	var run strings.Builder
	flush := func() error {
		if run.Len() == 0 {
			return nil
		}
		t, err := m.Tokenize(run.String(), false, false)
		run.Reset()
		out = append(out, t...)
		return err
	}
	for _, s := range segs {
		switch {
		case s.Tokens != nil:
			if err := flush(); err != nil {
				return nil, err
			}
			out = append(out, s.Tokens...)
		case !s.ParseSpecial:
			run.WriteString(s.Text)
		default:
			for _, f := range m.partition(s.Text) {
				if f.id < 0 {
					run.WriteString(f.text)
					continue
				}
				if err := flush(); err != nil {
					return nil, err
				}
				out = append(out, f.id)
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

// partition splits text at special-token text, longest tokens first, as llama.cpp's
// tokenizer_st_partition does. Text fragments have id -1.
func (m *Model) partition(text string) []specialToken {
	frags := []specialToken{{text, -1}}
	for _, sp := range m.specials() {
		var next []specialToken
		for _, f := range frags {
			if f.id >= 0 || !strings.Contains(f.text, sp.text) {
				next = append(next, f)
				continue
			}
			rest := f.text
			for {
				i := strings.Index(rest, sp.text)
				if i < 0 {
					break
				}
				if i > 0 {
					next = append(next, specialToken{rest[:i], -1})
				}
				next = append(next, sp)
				rest = rest[i+len(sp.text):]
			}
			if rest != "" {
				next = append(next, specialToken{rest, -1})
			}
		}
		frags = next
	}
	return frags
}
