package tools

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Choice is a request's tool_choice: whether the model may, must or must not call a tool.
type Choice struct {
	Mode Mode
	Name string // Mode Named: the function that must be called
}

// Mode is how a Choice constrains the answer.
type Mode string

const (
	ModeAuto     Mode = "auto"     // prose or calls, as the model likes (the default)
	ModeNone     Mode = "none"     // prose only: the tools are not offered
	ModeRequired Mode = "required" // at least one call of any of the tools
	ModeNamed    Mode = "named"    // one call of the function Name
)

// ParseChoice reads OpenAI's tool_choice: "auto", "none", "required", or
// {"type": "function", "function": {"name": "..."}}. Absent means auto.
func ParseChoice(raw json.RawMessage) (Choice, error) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || string(t) == "null" {
		return Choice{Mode: ModeAuto}, nil
	}
	var s string
	if json.Unmarshal(t, &s) == nil {
		switch m := Mode(s); m {
		case ModeAuto, ModeNone, ModeRequired:
			return Choice{Mode: m}, nil
		}
		return Choice{}, fmt.Errorf("tool_choice %q: want \"auto\", \"none\", \"required\" or {\"type\": \"function\", \"function\": {\"name\": ...}}", s)
	}
	var named struct {
		Type     string `json:"type"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if err := json.Unmarshal(t, &named); err != nil || named.Type != "function" || named.Function.Name == "" {
		return Choice{}, fmt.Errorf("tool_choice: want \"auto\", \"none\", \"required\" or {\"type\": \"function\", \"function\": {\"name\": ...}}")
	}
	return Choice{Mode: ModeNamed, Name: named.Function.Name}, nil
}

// Constrain is what a choice forces on an answer of family f: ok is false when the
// answer is free (none, or auto for Llama 3, whose calls have no tag to wait for).
// Without parallel calls (OpenAI's parallel_tool_calls false) an answer holds one call.
func Constrain(f Family, list []Tool, ch Choice, parallel bool) (c Constraint, ok bool, err error) {
	most := MaxCalls
	if !parallel {
		most = 1
	}
	switch ch.Mode {
	case ModeNone:
		return Constraint{}, false, nil
	case ModeRequired:
		c, err = require(f, list, "", most)
	case ModeNamed:
		c, err = require(f, list, ch.Name, most)
	default:
		return auto(f, list, most)
	}
	return c, err == nil, err
}
