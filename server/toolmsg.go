package server

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/olm-dev/olm/chat/template"
)

// apiToolCall is an earlier call as a client sends it back. OpenAI's arguments are JSON
// text in a string, ollama's an object (with an index); each API's clients get either.
type apiToolCall struct {
	ID       string `json:"id,omitempty"`
	Type     string `json:"type,omitempty"`
	Function struct {
		Index     int             `json:"index,omitempty"`
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
	} `json:"function"`
}

// addMessage appends message i of a chat request in olm's terms: an assistant's calls, or
// a tool result, which gets the function's name from the call it answers when the client
// sent none (some templates print it). needID: the API names the call a result answers.
func (g *genRequest) addMessage(i int, role, text, callID, name string, raw []apiToolCall, needID bool) error {
	var calls []template.ToolCall
	for k, c := range raw {
		param := fmt.Sprintf("messages[%d].tool_calls[%d]", i, k)
		if c.Function.Name == "" {
			return badRequest(param, "%s: the function's name is missing", param)
		}
		args, err := callArguments(c.Function.Arguments)
		if err != nil {
			return badRequest(param, "%s (%s): %v", param, c.Function.Name, err)
		}
		calls = append(calls, template.ToolCall{ID: c.ID, Name: c.Function.Name, Arguments: args})
	}
	if len(calls) > 0 && role != template.RoleAssistant {
		return badRequest(fmt.Sprintf("messages[%d].tool_calls", i), "messages[%d]: only assistant messages make tool calls", i)
	}
	m := template.Message{Role: role, Content: text, ToolCalls: calls}
	if role == template.RoleTool {
		if needID && callID == "" {
			return badRequest(fmt.Sprintf("messages[%d].tool_call_id", i), "messages[%d]: a tool message needs the tool_call_id of the call it answers", i)
		}
		m.ToolCallID, m.Name = callID, name
		for _, p := range g.messages {
			for _, c := range p.ToolCalls {
				if m.Name == "" && callID != "" && c.ID == callID {
					m.Name = c.Name
				}
			}
		}
	}
	g.toolMsgs = g.toolMsgs || len(calls) > 0 || role == template.RoleTool
	g.messages = append(g.messages, m)
	return nil
}

// callArguments reads a call's arguments from a request: JSON object text, in a string or
// as the object itself.
func callArguments(raw json.RawMessage) (json.RawMessage, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		raw = json.RawMessage(s)
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return json.RawMessage("{}"), nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, fmt.Errorf("arguments must be a JSON object: %.60q", string(raw))
	}
	return raw, nil
}
