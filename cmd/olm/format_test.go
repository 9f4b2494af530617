package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/olm-dev/olm/internal/realmodel"
)

// olm run --format: the story model writes JSON that validates; bad formats are one-line
// errors before any model loads.
func TestRunFormat(t *testing.T) {
	model := realmodel.Stories260K(t)
	schema := filepath.Join(t.TempDir(), "hero.json")
	if err := os.WriteFile(schema, []byte(`{"type":"object","properties":{"hero":{"type":"string","maxLength":20},"age":{"type":"integer"},"mood":{"enum":["happy","sad"]}},"required":["hero","age","mood"],"additionalProperties":false}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, seed := range []string{"1", "2", "3"} {
		out, _ := mustRun(t, "", "run", model, "Once upon a time", "--format", schema, "--temp", "1", "--seed", seed, "-n", "300", "-t", "1")
		var v struct {
			Hero string
			Age  *int
			Mood string
		}
		if err := json.Unmarshal([]byte(out), &v); err != nil || v.Age == nil || (v.Mood != "happy" && v.Mood != "sad") || len([]rune(v.Hero)) > 20 {
			t.Errorf("seed %s: %q does not match the schema (%v)", seed, out, err)
		}
	}
	out, _ := mustRun(t, "", "run", model, "Once upon a time", "--format", "json", "--temp", "0", "-n", "200", "-t", "1")
	if !strings.HasPrefix(strings.TrimSpace(out), "{") {
		t.Errorf("--format json: %q is no JSON object", out)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"type":"string","pattern":"abc"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	mustFail(t, []string{"run", model, "x", "--format", bad}, "--format", "Pattern must start with '^'")
	mustFail(t, []string{"run", model, "x", "--format", "nope.json"}, "no such file", "json, off")
}
