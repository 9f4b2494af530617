package grammar

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

func TestFromJSONSchema(t *testing.T) {
	g, err := FromJSONSchema([]byte(`{"type":"object","properties":{"name":{"type":"string"},"n":{"type":"integer"}},"required":["name"]}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"root ::=", `"\"name\""`, "integer"} {
		if !strings.Contains(g.Text, want) {
			t.Errorf("grammar lacks %q:\n%s", want, g.Text)
		}
	}
	if g.RootRule() != "root" {
		t.Errorf("root = %q", g.RootRule())
	}
}

func TestFromJSONSchemaErrors(t *testing.T) {
	for _, c := range []struct{ schema, want string }{
		{`{"type":"object"`, "not valid JSON"},
		{`[1,2]`, "must be a JSON object"},
		{`{"type":"frobnicate"}`, "Unrecognized schema"},
		{`{"$ref":"https://example.com/x.json"}`, "ref"},
		{`{"type":"string","pattern":"abc"}`, "Pattern must start with '^'"},
		{`false`, "matches nothing"},
	} {
		_, err := FromJSONSchema([]byte(c.schema))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.schema, err, c.want)
			continue
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error spans lines: %q", c.schema, err)
		}
		var se *SchemaError
		if !errors.As(err, &se) && !errors.Is(err, ErrNotObject) {
			t.Errorf("%s: error %T is neither *SchemaError nor ErrNotObject", c.schema, err)
		}
	}
}

func TestJSONObject(t *testing.T) {
	g, err := JSONObject()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(g.Text, "root ::= object") {
		t.Errorf("JSONObject grammar:\n%s", g.Text)
	}
}

func TestParseFormat(t *testing.T) {
	dir := t.TempDir()
	good := dir + "/s.json"
	bad := dir + "/bad.json"
	if err := os.WriteFile(good, []byte(`{"type":"object","properties":{"a":{"type":"integer"}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte(`{"type":"frobnicate"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if g, err := ParseFormat("off"); err != nil || !g.IsZero() {
		t.Errorf("off: %v %v", g, err)
	}
	if g, err := ParseFormat("json"); err != nil || !strings.Contains(g.Text, "root ::= object") {
		t.Errorf("json: %v", err)
	}
	if g, err := ParseFormat(good); err != nil || !strings.Contains(g.Text, `"\"a\""`) {
		t.Errorf("file: %v\n%s", err, g.Text)
	}
	if _, err := ParseFormat(dir + "/missing.json"); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := ParseFormat(bad); err == nil || !strings.Contains(err.Error(), "Unrecognized schema") || !strings.Contains(err.Error(), "bad.json") {
		t.Errorf("bad schema: %v", err)
	}
}

func TestServerFormats(t *testing.T) {
	for _, c := range []struct {
		raw  string
		none bool
		err  string
	}{{``, true, ""}, {`null`, true, ""}, {`"json"`, false, ""}, {`{"type":"object"}`, false, ""}, {`"yaml"`, false, "must be"}} {
		g, err := FromOllamaFormat(json.RawMessage(c.raw))
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("format %s: error %v", c.raw, err)
			}
			continue
		}
		if err != nil || g.IsZero() != c.none {
			t.Errorf("format %s: %v, none=%v", c.raw, err, g.IsZero())
		}
	}
	var rf ResponseFormat
	if err := json.Unmarshal([]byte(`{"type":"json_schema","json_schema":{"name":"p","strict":true,"schema":{"type":"object","properties":{"x":{"type":"string"}},"required":["x"]}}}`), &rf); err != nil {
		t.Fatal(err)
	}
	if g, err := FromResponseFormat(&rf); err != nil || !strings.Contains(g.Text, `"\"x\""`) {
		t.Errorf("json_schema: %v", err)
	}
	if _, err := FromResponseFormat(&ResponseFormat{Type: "xml"}); err == nil {
		t.Error("type xml accepted")
	}
	if _, err := FromResponseFormat(&ResponseFormat{Type: "json_schema"}); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("json_schema without schema: %v", err)
	}
}
