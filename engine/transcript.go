package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/olm-dev/olm/chat/template"
)

// Transcript is what /save writes and /load reads. Saving a loaded transcript gives back
// the same bytes.
type Transcript struct {
	Model    string             `json:"model"`
	System   string             `json:"system"`
	Messages []template.Message `json:"messages"`
}

// Marshal encodes t as indented JSON. HTML escaping is off so that "<|im_end|>" in a
// message reads as typed.
func (t Transcript) Marshal() ([]byte, error) {
	// Invalid UTF-8 would be written as "\ufffd" and read back as U+FFFD, which then
	// saves differently: replace it first so a save of a load is the same bytes.
	t.System = strings.ToValidUTF8(t.System, "\uFFFD")
	msgs := make([]template.Message, len(t.Messages))
	for i, m := range t.Messages {
		msgs[i] = template.Message{Role: m.Role, Content: strings.ToValidUTF8(m.Content, "\uFFFD")}
	}
	t.Messages = msgs
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(t); err != nil {
		return nil, fmt.Errorf("encode transcript: %w", err)
	}
	return b.Bytes(), nil
}

// ParseTranscript decodes and checks a transcript: messages must be user or assistant
// turns (the system prompt has its own field).
func ParseTranscript(data []byte) (Transcript, error) {
	var t Transcript
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return Transcript{}, fmt.Errorf("parse transcript: %w", err)
	}
	for i, m := range t.Messages {
		switch m.Role {
		case template.RoleUser, template.RoleAssistant:
		case template.RoleSystem:
			return Transcript{}, fmt.Errorf("transcript message %d: a system prompt belongs in the \"system\" field", i)
		default:
			return Transcript{}, fmt.Errorf("transcript message %d: role %q is not user or assistant", i, m.Role)
		}
	}
	return t, nil
}

// SaveTranscript writes t to path.
func SaveTranscript(path string, t Transcript) error {
	data, err := t.Marshal()
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("save transcript: %w", err)
	}
	return nil
}

// LoadTranscript reads a transcript from path.
func LoadTranscript(path string) (Transcript, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Transcript{}, fmt.Errorf("load transcript: %w", err)
	}
	return ParseTranscript(data)
}
