package template

import "strings"

// Part is a piece of a rendered prompt. Literal parts are message contents:
// the tokenizer must encode them as plain text, never as special tokens.
// Other parts are template scaffolding, where special tokens are parsed.
type Part struct {
	Text    string
	Literal bool
}

// Prompt is a rendered conversation.
type Prompt struct {
	Parts []Part
	// HasBOS reports that the text already begins with the BOS token, so the
	// tokenizer must not add another one.
	HasBOS bool
	// Unprotected reports that message contents could not be told apart from
	// the scaffolding (the template transformed them), so the whole prompt is
	// one non-literal part and special tokens typed by the user are parsed.
	Unprotected bool
}

// String returns the full prompt text.
func (p Prompt) String() string {
	var b strings.Builder
	for _, part := range p.Parts {
		b.WriteString(part.Text)
	}
	return b.String()
}

// builder accumulates parts, merging neighbours of the same kind and
// dropping empty ones so callers see a minimal list.
type builder struct {
	parts []Part
}

func (b *builder) add(text string, literal bool) {
	if text == "" {
		return
	}
	if n := len(b.parts); n > 0 && b.parts[n-1].Literal == literal {
		b.parts[n-1].Text += text
		return
	}
	b.parts = append(b.parts, Part{Text: text, Literal: literal})
}

// raw adds scaffolding, where special tokens are parsed.
func (b *builder) raw(text string) { b.add(text, false) }

// lit adds message content, kept as plain text.
func (b *builder) lit(text string) { b.add(text, true) }
