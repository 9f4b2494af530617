package grammar

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// ParseFormat reads a --format or /set format value: "json" is any JSON object, "off" or ""
// is none, anything else is the path of a JSON Schema file.
func ParseFormat(v string) (Grammar, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "off", "none", "text":
		return Grammar{}, nil
	case "json":
		return JSONObject()
	}
	b, err := os.ReadFile(v)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return Grammar{}, fmt.Errorf("format %q: no such file; give json, off, or the path of a JSON Schema file", v)
		}
		return Grammar{}, fmt.Errorf("format %q: %w", v, err)
	}
	g, err := FromJSONSchema(b)
	if err != nil {
		return Grammar{}, fmt.Errorf("format %s: %w", v, err)
	}
	return g, nil
}

// FromOllamaFormat reads ollama's "format" field: absent, null or "" for none, "json" for
// any JSON object, or a JSON Schema object.
func FromOllamaFormat(raw json.RawMessage) (Grammar, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return Grammar{}, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		switch s {
		case "":
			return Grammar{}, nil
		case "json":
			return JSONObject()
		}
		return Grammar{}, fmt.Errorf("format %q: must be \"json\" or a JSON Schema object", s)
	}
	return FromJSONSchema(raw)
}

// ResponseFormat is OpenAI's response_format.
type ResponseFormat struct {
	Type       string `json:"type"` // "text", "json_object" or "json_schema"
	JSONSchema *struct {
		Name   string          `json:"name"`
		Schema json.RawMessage `json:"schema"`
		Strict *bool           `json:"strict,omitempty"`
	} `json:"json_schema,omitempty"`
}

// FromResponseFormat is the grammar for an OpenAI response_format (nil: none). Strict or
// not, olm enforces the schema: the grammar makes output valid by construction.
func FromResponseFormat(rf *ResponseFormat) (Grammar, error) {
	if rf == nil {
		return Grammar{}, nil
	}
	switch rf.Type {
	case "", "text":
		return Grammar{}, nil
	case "json_object":
		return JSONObject()
	case "json_schema":
		if rf.JSONSchema == nil || len(bytes.TrimSpace(rf.JSONSchema.Schema)) == 0 {
			return Grammar{}, errors.New("response_format json_schema: json_schema.schema is missing")
		}
		return FromJSONSchema(rf.JSONSchema.Schema)
	}
	return Grammar{}, fmt.Errorf("response_format type %q: must be text, json_object or json_schema", rf.Type)
}

// Framed is a grammar for prefix, a JSON value valid against schema, and suffix, one to
// max times, separated by a newline (tool calls: tools.Constraint gives the pieces). Up to
// three blanks or newlines may follow the prefix and precede the suffix.
func Framed(prefix string, schema []byte, suffix string, max int) (Grammar, error) {
	g, err := FromJSONSchema(schema)
	if err != nil {
		return Grammar{}, err
	}
	var b strings.Builder
	b.WriteString(g.Text)
	b.WriteString("olm-frame ::= ")
	if prefix != "" {
		b.WriteString(literal(prefix) + " olm-blank ")
	}
	b.WriteString("root")
	if suffix != "" {
		b.WriteString(" olm-blank " + literal(suffix))
	}
	b.WriteString("\nolm-blank ::= [ \\t\\n]{0,3}")
	b.WriteString("\nolm-framed ::= olm-frame")
	if max > 1 {
		fmt.Fprintf(&b, ` ("\n" olm-frame){0,%d}`, max-1)
	}
	b.WriteString("\n")
	return Grammar{Text: b.String(), Root: "olm-framed"}, nil
}

// literal quotes s as a GBNF string.
func literal(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "\t", `\t`)
	return `"` + r.Replace(s) + `"`
}
