// Package grammar makes GBNF grammars for llama.cpp's grammar sampler: from a JSON Schema
// through llama.cpp's own converter (json-schema-to-grammar.cpp of the pinned module), and
// the fixed grammar of any JSON object.
package grammar

/*
#cgo CPPFLAGS: -I${SRCDIR}/../third_party/ollama/llama/llama.cpp/include
#cgo CPPFLAGS: -I${SRCDIR}/../third_party/ollama/ml/backend/ggml/ggml/include
#cgo CXXFLAGS: -std=c++17
#include <stdlib.h>
#include "schema.h"
*/
import "C"

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unsafe"
)

// Grammar is GBNF text and the rule generation starts from.
type Grammar struct {
	Text string
	Root string // "" means "root"
}

// RootRule is the start rule's name, defaulted.
func (g Grammar) RootRule() string {
	if g.Root == "" {
		return "root"
	}
	return g.Root
}

// IsZero reports that there is no grammar (unconstrained generation).
func (g Grammar) IsZero() bool { return g.Text == "" }

// SchemaError says why a JSON Schema cannot become a grammar.
type SchemaError struct {
	Reason string // the converter's words, e.g. "Unrecognized schema: {...}"
}

func (e *SchemaError) Error() string { return "JSON Schema: " + e.Reason }

// ErrNotObject is returned for a schema that is not a JSON object.
var ErrNotObject = errors.New("JSON Schema: must be a JSON object, such as {\"type\": \"object\", ...}")

// FromJSONSchema converts a JSON Schema to a grammar whose every sentence is a JSON
// document valid against it, with llama.cpp's converter (what llama-server does for
// json_schema). Constructs it cannot express are a *SchemaError naming them.
func FromJSONSchema(schema []byte) (Grammar, error) {
	var probe any
	if err := json.Unmarshal(schema, &probe); err != nil {
		return Grammar{}, &SchemaError{Reason: "not valid JSON: " + err.Error()}
	}
	switch probe.(type) {
	case map[string]any:
	case bool: // true is "anything", which the converter handles; false would match nothing
		if probe == false {
			return Grammar{}, &SchemaError{Reason: "the schema false matches nothing"}
		}
	default:
		return Grammar{}, ErrNotObject
	}
	if ref := remoteRef(probe); ref != "" {
		// llama.cpp's converter would silently accept anything in its place.
		return Grammar{}, &SchemaError{Reason: fmt.Sprintf("$ref %q: only references inside the schema (\"#/...\") are supported", ref)}
	}
	cs := C.CBytes(schema)
	defer C.free(cs)
	var ok C.int
	out := C.olm_schema_to_grammar((*C.char)(cs), C.size_t(len(schema)), &ok)
	if out == nil {
		return Grammar{}, fmt.Errorf("JSON Schema: out of memory converting %d bytes", len(schema))
	}
	text := C.GoString(out)
	C.free(unsafe.Pointer(out))
	if ok == 0 {
		text = strings.TrimPrefix(text, "JSON schema conversion failed:\n")
		return Grammar{}, &SchemaError{Reason: strings.ReplaceAll(strings.TrimSpace(text), "\n", "; ")}
	}
	return Grammar{Text: text}, nil
}

// JSONObject is a grammar for any JSON object: what --format json and OpenAI's json_object
// ask for (an object, not a bare string or number).
func JSONObject() (Grammar, error) {
	return FromJSONSchema([]byte(`{"type":"object"}`))
}

// remoteRef finds a $ref that points outside the schema.
func remoteRef(v any) string {
	switch v := v.(type) {
	case map[string]any:
		if r, ok := v["$ref"].(string); ok && !strings.HasPrefix(r, "#") {
			return r
		}
		for _, x := range v {
			if r := remoteRef(x); r != "" {
				return r
			}
		}
	case []any:
		for _, x := range v {
			if r := remoteRef(x); r != "" {
				return r
			}
		}
	}
	return ""
}
