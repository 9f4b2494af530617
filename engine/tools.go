package engine

import (
	"fmt"

	"github.com/olm-dev/olm/chat/template"
	"github.com/olm-dev/olm/chat/tools"
	"github.com/olm-dev/olm/runner"
)

// ToolFamily is how the model writes tool calls: its chat template's format when that
// template (the GGUF's own Jinja) renders tool definitions and olm knows the format,
// tools.None otherwise. It is worked out once per model.
func (m *Model) ToolFamily() tools.Family {
	m.toolOnce.Do(func() {
		if j, ok := m.Template.(*template.Jinja); ok && j.TakesTools() {
			m.toolFam = tools.Detect(j.Source())
		}
	})
	return m.toolFam
}

// ToolPrompt is ChatPrompt for a conversation with tools: defs (from tools.ParseTools)
// are rendered by the model's own template, and so are the assistant's earlier calls and
// the tool results. A model without a tool format gets tools.ErrNoTools.
func (m *Model) ToolPrompt(msgs []template.Message, defs []any) ([]runner.Token, error) {
	j, ok := m.Template.(*template.Jinja)
	if !ok || m.ToolFamily() == tools.None {
		return nil, fmt.Errorf("%s: %w", m.Name, tools.ErrNoTools)
	}
	p, err := tools.Render(j, msgs, defs, true)
	if err != nil {
		return nil, fmt.Errorf("render the conversation with template %s: %w", m.Template.Name(), err)
	}
	return tokenizePrompt(m.LM, p, nil)
}
