package repl

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// /set format FILE constrains the next answers to the schema; /set format off lifts it.
func TestSetFormat(t *testing.T) {
	schema := filepath.Join(t.TempDir(), "answer.json")
	if err := os.WriteFile(schema, []byte(`{"type":"object","properties":{"answer":{"enum":["yes","no"]}},"required":["answer"],"additionalProperties":false}`), 0o644); err != nil {
		t.Fatal(err)
	}
	s, notes := newSession(t, llamaChatML, 1024, 64)
	out, errOut := runScript(t, s, lines("/set format "+filepath.Join(t.TempDir(), "missing.json")+
		"\n/set format "+schema+"\nHello\n/set\n/set format off\nHello\n/set\n/exit\n"), notes, nil)
	if !strings.Contains(errOut+out, "no such file") {
		t.Errorf("a missing schema file was not reported:\n%s\n%s", out, errOut)
	}
	msgs := s.Messages()
	if len(msgs) != 4 {
		t.Fatalf("%d messages, want 4:\n%s\n%s", len(msgs), out, errOut)
	}
	var v struct{ Answer string }
	if err := json.Unmarshal([]byte(msgs[1].Content), &v); err != nil || (v.Answer != "yes" && v.Answer != "no") {
		t.Errorf("answer under the schema %q: %v", msgs[1].Content, err)
	}
	if json.Valid([]byte(msgs[3].Content)) {
		t.Errorf("answer after /set format off is still JSON: %q", msgs[3].Content)
	}
	if !strings.Contains(out, "format "+schema) || !strings.Contains(out, "format off") {
		t.Errorf("/set does not show the format:\n%s", out)
	}
}
