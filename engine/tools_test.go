package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/olm-dev/olm/chat/tools"
	"github.com/olm-dev/olm/grammar"
	"github.com/olm-dev/olm/runner"
)

const testTools = `[
 {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object",
  "properties": {"city": {"type": "string", "maxLength": 10}, "unit": {"enum": ["C", "F"]}}, "required": ["city", "unit"]}}},
 {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object",
  "properties": {"zone": {"type": "string", "maxLength": 10}}, "required": ["zone"]}}}
]`

// tool_choice "required" and a named function: with the grammar from tools.Require, a
// story model that never saw a tool call writes calls that parse, name a tool and whose
// arguments validate against that tool's schema, in each family's format.
func TestForcedToolCalls(t *testing.T) {
	for _, mc := range []struct {
		name  string
		model func(*testing.T) *runner.Model
	}{{"stories", func(t *testing.T) *runner.Model { return storiesModel(t) }}, {"synthetic", tinyModel}} {
		m := mc.model(t)
		e := newTestEngine(t, m, Options{Slots: 4, SlotCtx: 512})
		list, _, err := tools.ParseTools(json.RawMessage(testTools))
		if err != nil {
			t.Fatal(err)
		}
		schemas := map[string]*jsonschema.Schema{}
		for _, tl := range list {
			schemas[tl.Function.Name] = compileSchema(t, string(tl.Function.Parameters))
		}
		for _, fam := range []tools.Family{tools.Hermes, tools.Mistral, tools.Llama3} {
			for _, choice := range []string{"", "get_time"} {
				t.Run(fmt.Sprintf("%s/%s/%q", mc.name, fam, choice), func(t *testing.T) {
					c, err := tools.Require(fam, list, choice)
					if err != nil {
						t.Fatal(err)
					}
					g, err := grammar.Framed(c.Prefix, c.Schema, c.Suffix, c.Max)
					if err != nil {
						t.Fatal(err)
					}
					for seed := range int64(6) {
						p := runner.DefaultSampling()
						p.Temp, p.Seed, p.Grammar, p.GrammarRoot = 1, seed, g.Text, g.Root
						text, res := gen(t, e, context.Background(), Request{Prompt: tokenize(t, m, "Once upon a time"), Sampling: p, MaxTokens: 480})
						if res.Reason != runner.StopEOG {
							t.Fatalf("seed %d: stopped by %s before the grammar ended: %q", seed, res.Reason, text)
						}
						_, calls, err := tools.Parse(fam, text)
						if err != nil || len(calls) == 0 {
							t.Fatalf("seed %d: %q: %d calls, %v", seed, text, len(calls), err)
						}
						if len(calls) > c.Max && fam != tools.Mistral || len(calls) > tools.MaxCalls {
							t.Fatalf("seed %d: %d calls, at most %d allowed", seed, len(calls), c.Max)
						}
						for _, call := range calls {
							sch, ok := schemas[call.Name]
							if !ok || (choice != "" && call.Name != choice) {
								t.Fatalf("seed %d: call of %q (choice %q)", seed, call.Name, choice)
							}
							if err := validates(sch, string(call.Arguments)); err != nil {
								t.Fatalf("seed %d: %s arguments %s: %v", seed, call.Name, call.Arguments, err)
							}
						}
					}
				})
			}
		}
	}
}
