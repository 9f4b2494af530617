package template

import (
	"errors"
	"fmt"
	"strings"
)

// SampleConversation is the two-turn chat with a system prompt that
// Preview renders.
func SampleConversation() []Message {
	return []Message{
		{Role: RoleSystem, Content: "You are a helpful assistant."},
		{Role: RoleUser, Content: "Hello! Who are you?"},
		{Role: RoleAssistant, Content: "I am an AI assistant. How can I help?"},
		{Role: RoleUser, Content: "What is the capital of France?"},
	}
}

// Sample is a template's preview: what `olm show NAME --template` prints.
type Sample struct {
	Template string
	Stops    []string
	Messages []Message
	Prompt   Prompt
	Note     string // e.g. the template rejected the system prompt
}

// Preview renders SampleConversation, ready for the assistant's answer. A
// template that rejects system prompts is previewed without one, and says so.
func Preview(t Template) (Sample, error) {
	s := Sample{Template: t.Name(), Stops: t.Stops(), Messages: SampleConversation()}
	p, err := t.Render(s.Messages, true)
	var raised *RaisedError
	if errors.As(err, &raised) {
		s.Note = fmt.Sprintf("the template rejects a system prompt (%q); shown without one", raised.Message)
		s.Messages = s.Messages[1:]
		p, err = t.Render(s.Messages, true)
	}
	if err != nil {
		return Sample{}, fmt.Errorf("preview %s: %w", t.Name(), err)
	}
	s.Prompt = p
	return s, nil
}

// String lays the preview out for a terminal: the stop strings quoted, then
// the exact prompt between rulers.
func (s Sample) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "template: %s\n", s.Template)
	quoted := make([]string, len(s.Stops))
	for i, st := range s.Stops {
		quoted[i] = fmt.Sprintf("%q", st)
	}
	fmt.Fprintf(&b, "stops: %s\n", strings.Join(quoted, " "))
	if s.Prompt.HasBOS {
		b.WriteString("BOS: written by the template (the tokenizer adds none)\n")
	}
	if s.Prompt.Unprotected {
		b.WriteString("warning: message contents are not isolated from special tokens\n")
	}
	if s.Note != "" {
		fmt.Fprintf(&b, "note: %s\n", s.Note)
	}
	b.WriteString("prompt for a sample conversation:\n----\n")
	b.WriteString(s.Prompt.String())
	b.WriteString("\n----\n")
	return b.String()
}
