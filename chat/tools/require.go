package tools

import (
	"encoding/json"
	"fmt"
)

// Constraint is what a grammar must force for tool_choice "required" or a named
// function: Prefix, then a JSON value valid against Schema (one call, or for Mistral
// the list of calls), then Suffix, at most Max times (Hermes and Llama 3 frame each call;
// Mistral's one list holds them). grammar.Framed turns it into a grammar.
type Constraint struct {
	Prefix, Suffix string
	Schema         json.RawMessage
	Max            int
	// Trigger, for tool_choice "auto" (Auto): the grammar waits for this word (the
	// family's call tag, where Prefix starts); the text before it is free.
	Trigger string
}

// Auto is the constraint for tool_choice "auto": the model may answer in prose, and a
// call it begins with the family's tag must then parse (runner's GrammarTriggers hold
// the grammar back until the tag). ok is false for Llama 3, whose calls have no tag.
func Auto(f Family, tools []Tool) (c Constraint, ok bool, err error) {
	return auto(f, tools, MaxCalls)
}

func auto(f Family, tools []Tool, most int) (c Constraint, ok bool, err error) {
	if f == Llama3 {
		return Constraint{}, false, nil
	}
	c, err = require(f, tools, "", most)
	if err != nil {
		return Constraint{}, false, err
	}
	c.Trigger = hermesOpen
	if f == Mistral {
		c.Trigger = mistralTag
	}
	return c, true, nil
}

// MaxCalls is the most calls a forced answer may hold.
const MaxCalls = 3

// Require is the constraint for tool_choice: "required" (name "") forces a call of any
// of the tools, a name forces that function.
func Require(f Family, tools []Tool, name string) (Constraint, error) {
	return require(f, tools, name, MaxCalls)
}

// require is Require with at most most calls when no function is named.
func require(f Family, tools []Tool, name string, most int) (Constraint, error) {
	var picked []Tool
	for _, t := range tools {
		if name == "" || t.Function.Name == name {
			picked = append(picked, t)
		}
	}
	if len(picked) == 0 {
		if name != "" {
			return Constraint{}, fmt.Errorf("tool_choice names %q, which is not among the tools", name)
		}
		return Constraint{}, fmt.Errorf("tool_choice \"required\" needs at least one tool")
	}
	argsKey := "arguments"
	if f == Llama3 {
		argsKey = "parameters"
	}
	var alts []any
	for _, t := range picked {
		params := t.Function.Parameters
		if len(params) == 0 || string(params) == "null" {
			params = json.RawMessage(`{"type": "object"}`)
		}
		// Written by hand, not from a map: the converter keeps the schema's property
		// order, and the name must come first for the parser to stream the arguments.
		name, _ := json.Marshal(t.Function.Name)
		alts = append(alts, json.RawMessage(fmt.Sprintf(
			`{"type": "object", "properties": {"name": {"const": %s}, %q: %s}, "required": ["name", %q], "additionalProperties": false}`,
			name, argsKey, params, argsKey)))
	}
	var call any = alts[0]
	if len(alts) > 1 {
		call = map[string]any{"anyOf": alts}
	}
	c := Constraint{Max: 1}
	many := 1
	if name == "" {
		many = most
	}
	switch f {
	case Hermes:
		c.Prefix, c.Suffix, c.Max = hermesOpen, hermesClose, many
	case Mistral:
		c.Prefix = mistralTag
		call = map[string]any{"type": "array", "items": call, "minItems": 1, "maxItems": many}
	case Llama3:
		c.Max = many
	default:
		return Constraint{}, ErrNoTools
	}
	schema, err := json.Marshal(call)
	if err != nil {
		return Constraint{}, fmt.Errorf("tool_choice: %w", err)
	}
	c.Schema = schema
	return c, nil
}
