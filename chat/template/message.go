package template

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Roles a conversation uses.
const (
	RoleSystem    = "system"
	RoleUser      = "user"
	RoleAssistant = "assistant"
	RoleTool      = "tool" // a tool's result, answering the assistant's call ToolCallID
)

// Message is one turn of a conversation. An assistant turn may call tools (ToolCalls);
// a tool turn carries one call's result in Content.
type Message struct {
	Role       string     `json:"role"`
	Content    string     `json:"content"`
	ToolCalls  []ToolCall `json:"tool_calls,omitempty"`
	ToolCallID string     `json:"tool_call_id,omitempty"` // role tool: the call answered
	Name       string     `json:"name,omitempty"`         // role tool: the function's name
}

// ToolCall is one function call, in the neutral form every template and API shares:
// OpenAI's arguments string and ollama's arguments object both become Arguments, the
// JSON object text.
type ToolCall struct {
	ID        string          `json:"id,omitempty"`
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
}

// ParseMessages reads OpenAI-style chat JSON: either a bare array of
// messages or an object with a "messages" array (a chat completion request).
// Content may be a string or an array of parts, of which the text parts are
// joined; null content (an assistant turn that only called tools) is empty.
func ParseMessages(data []byte) ([]Message, error) {
	var raw []rawMessage
	trimmed := strings.TrimSpace(string(data))
	if strings.HasPrefix(trimmed, "{") {
		var req struct {
			Messages []rawMessage `json:"messages"`
		}
		if err := json.Unmarshal(data, &req); err != nil {
			return nil, fmt.Errorf("parse chat request: %w", err)
		}
		if req.Messages == nil {
			return nil, fmt.Errorf("parse chat request: no \"messages\" array")
		}
		raw = req.Messages
	} else if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("parse messages: %w", err)
	}
	msgs := make([]Message, 0, len(raw))
	for i, r := range raw {
		if r.Role == "" {
			return nil, fmt.Errorf("message %d: missing role", i)
		}
		text, err := r.text()
		if err != nil {
			return nil, fmt.Errorf("message %d (%s): %w", i, r.Role, err)
		}
		calls, err := r.toolCalls()
		if err != nil {
			return nil, fmt.Errorf("message %d (%s): %w", i, r.Role, err)
		}
		msgs = append(msgs, Message{Role: r.Role, Content: text, ToolCalls: calls, ToolCallID: r.ToolCallID, Name: r.Name})
	}
	return msgs, nil
}

type rawMessage struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"`
	ToolCallID string          `json:"tool_call_id"`
	Name       string          `json:"name"`
	ToolCalls  []struct {
		ID       string `json:"id"`
		Function struct {
			Name      string          `json:"name"`
			Arguments json.RawMessage `json:"arguments"`
		} `json:"function"`
	} `json:"tool_calls"`
}

// toolCalls reads OpenAI's tool_calls (arguments: a string holding JSON) and ollama's
// (arguments: an object).
func (r rawMessage) toolCalls() ([]ToolCall, error) {
	var out []ToolCall
	for i, c := range r.ToolCalls {
		args, err := ArgumentsJSON(c.Function.Arguments)
		if err != nil {
			return nil, fmt.Errorf("tool_calls[%d] (%s): %w", i, c.Function.Name, err)
		}
		out = append(out, ToolCall{ID: c.ID, Name: c.Function.Name, Arguments: args})
	}
	return out, nil
}

// ArgumentsJSON normalises a call's arguments to the JSON object text: a JSON string
// holding an object (OpenAI) is unwrapped, an object (ollama) kept, absent or "" is {}.
func ArgumentsJSON(raw json.RawMessage) (json.RawMessage, error) {
	t := strings.TrimSpace(string(raw))
	if t == "" || t == "null" || t == `""` {
		return json.RawMessage("{}"), nil
	}
	if strings.HasPrefix(t, `"`) {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("arguments: %w", err)
		}
		t = strings.TrimSpace(s)
	}
	if !strings.HasPrefix(t, "{") || !json.Valid([]byte(t)) {
		return nil, fmt.Errorf("arguments must be a JSON object, got %.40q", t)
	}
	return json.RawMessage(t), nil
}

func (r rawMessage) text() (string, error) {
	c := strings.TrimSpace(string(r.Content))
	switch {
	case c == "" || c == "null":
		return "", nil
	case strings.HasPrefix(c, `"`):
		var s string
		if err := json.Unmarshal(r.Content, &s); err != nil {
			return "", fmt.Errorf("content: %w", err)
		}
		return s, nil
	case strings.HasPrefix(c, "["):
		var parts []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		}
		if err := json.Unmarshal(r.Content, &parts); err != nil {
			return "", fmt.Errorf("content parts: %w", err)
		}
		var b strings.Builder
		for _, p := range parts {
			if p.Type != "text" {
				// Images and audio cannot reach a text-only model.
				return "", fmt.Errorf("content part of type %q is not supported", p.Type)
			}
			b.WriteString(p.Text)
		}
		return b.String(), nil
	default:
		return "", fmt.Errorf("content must be a string or an array of parts")
	}
}
