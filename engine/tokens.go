package engine

import (
	"fmt"
	"strings"

	"github.com/olm-dev/olm/chat/template"
	"github.com/olm-dev/olm/runner"
)

// tokenizePrompt turns a rendered prompt into tokens as llama.cpp would tokenize the whole
// text, except that special-token text is parsed only in the scaffolding: message contents
// (Literal parts) stay plain text, so a user who types "</s>" or "<|im_end|>" cannot end a
// turn or forge one. A content
// found in sampled (the session's own answers) takes the tokens the model generated, which
// are what the KV cache holds.
func tokenizePrompt(lm *runner.Model, p template.Prompt, sampled map[string][]runner.Token) ([]runner.Token, error) {
	segs := make([]runner.Segment, 0, len(p.Parts))
	for _, part := range p.Parts {
		if t, ok := sampled[part.Text]; ok && part.Literal {
			segs = append(segs, runner.Segment{Tokens: t})
			continue
		}
		segs = append(segs, runner.Segment{Text: part.Text, ParseSpecial: !part.Literal})
	}
	toks, err := lm.TokenizeSegments(segs, !p.HasBOS && lm.AddsBOS())
	if err != nil {
		return nil, fmt.Errorf("tokenize prompt: %w", err)
	}
	return toks, nil
}

// answerTokens spells an answer with the tokens the model sampled (gen) as far as their
// text matches, then tokenizes what is left (the last token, never evaluated, or text after
// a stop). Re-tokenizing the whole text instead may split it differently from the sampling
// (SentencePiece's space prefix does at the very first token), and the next turn would
// then evaluate the whole answer again. nil means no exact spelling was found.
func answerTokens(lm *runner.Model, gen []runner.Token, text string) []runner.Token {
	var spelled []byte
	n := 0
	for ; n < len(gen); n++ {
		next := lm.Piece(spelled, gen[n], false)
		if !strings.HasPrefix(text, string(next)) {
			break
		}
		spelled = next
	}
	rest := text[len(spelled):]
	out := gen[:n:n]
	if rest == "" {
		return out
	}
	tail, err := lm.Tokenize(rest, false, false)
	if err != nil {
		return nil
	}
	// A SentencePiece tokenizer prefixes a space to the text it is given: " x" comes back
	// as "▁" "▁x". Without that token the tail spells the text again.
	if got := spell(lm, tail); got != rest && len(tail) > 1 && got == " "+rest && spell(lm, tail[:1]) == " " {
		tail = tail[1:]
	}
	if spell(lm, tail) != rest {
		return nil
	}
	return append(out, tail...)
}

func spell(lm *runner.Model, toks []runner.Token) string {
	var b []byte
	for _, t := range toks {
		b = lm.Piece(b, t, false)
	}
	return string(b)
}

// ChatPrompt renders msgs with the model's chat template, ready for the assistant's answer,
// and tokenizes it as a session does: message contents stay text, so a client cannot forge
// control tokens. The server's chat endpoints use it.
func (m *Model) ChatPrompt(msgs []template.Message) ([]runner.Token, error) {
	if m.Template == nil {
		return nil, fmt.Errorf("%s has no chat template: use the completion endpoints", m.Name)
	}
	p, err := m.Template.Render(msgs, true)
	if err != nil {
		return nil, fmt.Errorf("render the conversation with template %s: %w", m.Template.Name(), err)
	}
	return tokenizePrompt(m.LM, p, nil)
}

// Stops are the chat template's stop strings followed by extra ones.
func (m *Model) Stops(extra []string) []string {
	var s []string
	if m.Template != nil {
		s = append(s, m.Template.Stops()...)
	}
	return append(s, extra...)
}
