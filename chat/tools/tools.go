package tools

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/olm-dev/olm/chat/template"
)

// Tool is one function a model may call, as OpenAI and ollama define it.
type Tool struct {
	Type     string   `json:"type"` // "function"
	Function Function `json:"function"`
}

// Function describes the function: Parameters is its arguments' JSON Schema.
type Function struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// ParseTools reads a request's "tools" array. It returns the tools and the same JSON as
// template values that keep the client's key order (for Jinja.RenderTools).
func ParseTools(raw json.RawMessage) ([]Tool, []any, error) {
	if t := bytes.TrimSpace(raw); len(t) == 0 || string(t) == "null" {
		return nil, nil, nil
	}
	var list []Tool
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, nil, fmt.Errorf("tools: %w", err)
	}
	seen := map[string]bool{}
	for i, t := range list {
		switch {
		case t.Type != "" && t.Type != "function":
			return nil, nil, fmt.Errorf("tools[%d]: type %q: only \"function\" tools exist", i, t.Type)
		case !nameRE.MatchString(t.Function.Name):
			return nil, nil, fmt.Errorf("tools[%d]: function name %q: use 1 to 64 letters, digits, _ . or -", i, t.Function.Name)
		case seen[t.Function.Name]:
			return nil, nil, fmt.Errorf("tools[%d]: function %q is defined twice", i, t.Function.Name)
		}
		seen[t.Function.Name] = true
		if p := bytes.TrimSpace(t.Function.Parameters); len(p) > 0 && string(p) != "null" && p[0] != '{' {
			return nil, nil, fmt.Errorf("tools[%d] (%s): parameters must be a JSON Schema object", i, t.Function.Name)
		}
	}
	values, err := template.OrderedJSON(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("tools: %w", err)
	}
	vl, _ := values.([]any)
	return list, vl, nil
}

// Family is a way models write tool calls.
type Family string

const (
	// None: the template has no tool format olm knows.
	None Family = ""
	// Hermes: <tool_call>{"name": ..., "arguments": {...}}</tool_call>, one block per
	// call (Qwen2.5, Hermes 2 Pro and 3, other ChatML tool models).
	Hermes Family = "hermes"
	// Mistral: [TOOL_CALLS] [{"name": ..., "arguments": {...}}, ...] (Mistral Instruct
	// v0.3 and later). [TOOL_CALLS] is a control token, which the engine's text omits, so
	// an answer that starts with [{ is read as the same list.
	Mistral Family = "mistral"
	// Llama3: the whole answer is {"name": ..., "parameters": {...}}, optionally after
	// <|python_tag|>, several separated by ";" (Llama 3.1 and 3.2 JSON tool calling).
	Llama3 Family = "llama3"
)

// Detect names the family whose format the template teaches its model.
func Detect(templateSource string) Family {
	switch {
	case strings.Contains(templateSource, "<tool_call>"):
		return Hermes
	case strings.Contains(templateSource, "[TOOL_CALLS]"):
		return Mistral
	case strings.Contains(templateSource, "<|eot_id|>") && strings.Contains(templateSource, "parameters") &&
		(strings.Contains(templateSource, "ipython") || strings.Contains(templateSource, "<|python_tag|>")):
		return Llama3
	}
	return None
}

// ErrNoTools says the model's template does not take tools: a request with tools gets a
// clear refusal (HTTP 400), not a format the model was never taught.
var ErrNoTools = errors.New("this model's chat template does not take tools")

// Render renders a conversation with tools through the model's own template, or
// returns ErrNoTools when the template ignores them.
func Render(j *template.Jinja, msgs []template.Message, tools []any, addGenerationPrompt bool) (template.Prompt, error) {
	if len(tools) > 0 && !j.TakesTools() {
		return template.Prompt{}, ErrNoTools
	}
	return j.RenderTools(msgs, tools, addGenerationPrompt)
}

const idChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// NewID makes a call id of 9 letters and digits: the one shape every template accepts
// back (Mistral's refuses any other length).
func NewID() string {
	var b [9]byte
	_, _ = rand.Read(b[:]) // never fails: since Go 1.24 crypto/rand aborts instead
	for i := range b {
		b[i] = idChars[int(b[i])%len(idChars)]
	}
	return string(b[:])
}
