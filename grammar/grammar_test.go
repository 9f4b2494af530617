package grammar

import (
	"errors"
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
