package tools

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestRequire(t *testing.T) {
	list, _, err := ParseTools(json.RawMessage(`[{"type":"function","function":{"name":"a","parameters":{"type":"object","properties":{"x":{"type":"integer"}}}}},{"type":"function","function":{"name":"b"}}]`))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Require(Hermes, list, "")
	if err != nil || c.Prefix != "<tool_call>" || c.Suffix != "</tool_call>" || c.Trigger != "" || c.Max != MaxCalls || !strings.Contains(string(c.Schema), "anyOf") {
		t.Errorf("required, hermes: %+v %v", c, err)
	}
	// The name comes before the arguments, so the parser can stream them.
	if s := string(c.Schema); strings.Index(s, `"name"`) > strings.Index(s, `"arguments"`) {
		t.Errorf("arguments before name: %s", s)
	}
	c, err = Require(Mistral, list, "b")
	if err != nil || c.Max != 1 || !strings.HasPrefix(c.Prefix, "[TOOL_CALLS]") || strings.Contains(string(c.Schema), `"a"`) || !strings.Contains(string(c.Schema), `"maxItems":1`) {
		t.Errorf("named, mistral: %+v %v", c, err)
	}
	if c, err = Require(Llama3, list, "a"); err != nil || !strings.Contains(string(c.Schema), `"parameters"`) {
		t.Errorf("llama3 uses parameters: %s %v", c.Schema, err)
	}
	if _, err := Require(Hermes, list, "c"); err == nil || !strings.Contains(err.Error(), `"c"`) {
		t.Errorf("unknown function: %v", err)
	}
	if _, err := Require(Hermes, nil, ""); err == nil {
		t.Error("required without tools accepted")
	}
	if _, err := Require(None, list, ""); err != ErrNoTools {
		t.Errorf("family none: %v", err)
	}
	if c, ok, err := Auto(Hermes, list); !ok || err != nil || c.Trigger != "<tool_call>" || !strings.HasPrefix(c.Prefix, c.Trigger) {
		t.Errorf("auto, hermes: %+v %v %v", c, ok, err)
	}
	if c, ok, err := Auto(Mistral, list); !ok || err != nil || c.Trigger != "[TOOL_CALLS]" || !strings.HasPrefix(c.Prefix, c.Trigger) {
		t.Errorf("auto, mistral: %+v %v %v", c, ok, err)
	}
	if _, ok, err := Auto(Llama3, list); ok || err != nil {
		t.Errorf("auto, llama3: %v %v, want no constraint", ok, err)
	}
}

func TestParseChoice(t *testing.T) {
	for _, c := range []struct {
		raw  string
		want Choice
		err  string
	}{
		{``, Choice{Mode: ModeAuto}, ""},
		{`null`, Choice{Mode: ModeAuto}, ""},
		{`"none"`, Choice{Mode: ModeNone}, ""},
		{`"required"`, Choice{Mode: ModeRequired}, ""},
		{`{"type": "function", "function": {"name": "f"}}`, Choice{Mode: ModeNamed, Name: "f"}, ""},
		{`"always"`, Choice{}, `tool_choice "always"`},
		{`{"type": "function"}`, Choice{}, "tool_choice: want"},
		{`3`, Choice{}, "tool_choice: want"},
	} {
		got, err := ParseChoice(json.RawMessage(c.raw))
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %v, want %q", c.raw, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: %+v %v, want %+v", c.raw, got, err, c.want)
		}
	}
}

func TestConstrainWithoutParallelCalls(t *testing.T) {
	list, _, err := ParseTools(json.RawMessage(`[{"type":"function","function":{"name":"a"}},{"type":"function","function":{"name":"b"}}]`))
	if err != nil {
		t.Fatal(err)
	}
	if c, ok, err := Constrain(Hermes, list, Choice{Mode: ModeRequired}, false); !ok || err != nil || c.Max != 1 {
		t.Errorf("required, one call: %+v %v %v", c, ok, err)
	}
	if c, ok, err := Constrain(Mistral, list, Choice{Mode: ModeAuto}, false); !ok || err != nil || !strings.Contains(string(c.Schema), `"maxItems":1`) || c.Trigger == "" {
		t.Errorf("auto, mistral, one call: %+v %v %v", c, ok, err)
	}
	if c, ok, err := Constrain(Hermes, list, Choice{Mode: ModeRequired}, true); !ok || err != nil || c.Max != MaxCalls {
		t.Errorf("required, parallel: %+v %v %v", c, ok, err)
	}
	if _, ok, err := Constrain(Hermes, list, Choice{Mode: ModeNone}, true); ok || err != nil {
		t.Errorf("none: %v %v, want no constraint", ok, err)
	}
	if _, _, err := Constrain(Hermes, list, Choice{Mode: ModeNamed, Name: "zz"}, true); err == nil || !strings.Contains(err.Error(), `"zz"`) {
		t.Errorf("unknown name: %v", err)
	}
}
