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
)

// Message is one turn of a conversation.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
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
		msgs = append(msgs, Message{Role: r.Role, Content: text})
	}
	return msgs, nil
}

type rawMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
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
