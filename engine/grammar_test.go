package engine

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/olm-dev/olm/grammar"
	"github.com/olm-dev/olm/runner"
	"github.com/olm-dev/olm/synth"
)

// personSchema has what the issue asks for: required string, integer and enum fields, an
// array and a nested object. Lengths are bounded so that a model that never closes a
// string still ends within the token budget.
const personSchema = `{
  "type": "object",
  "properties": {
    "name":  {"type": "string", "maxLength": 8},
    "age":   {"type": "integer"},
    "color": {"enum": ["red", "green", "blue"]},
    "tags":  {"type": "array", "items": {"type": "string", "maxLength": 6}, "maxItems": 3},
    "home":  {
      "type": "object",
      "properties": {"city": {"type": "string", "maxLength": 8}, "zip": {"type": "integer"}},
      "required": ["city", "zip"],
      "additionalProperties": false
    }
  },
  "required": ["name", "age", "color", "tags", "home"],
  "additionalProperties": false
}`

func compileSchema(t *testing.T, schema string) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(schema))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// validates reports whether text is JSON that the schema accepts, and why not.
func validates(s *jsonschema.Schema, text string) error {
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(text))
	if err != nil {
		return err
	}
	return s.Validate(v)
}

func tinyModel(t *testing.T) *runner.Model {
	t.Helper()
	spec, err := synth.Tiny("llama")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tiny.gguf")
	if err := synth.Write(context.Background(), path, spec, nil); err != nil {
		t.Fatal(err)
	}
	m, err := runner.LoadModel(context.Background(), path, runner.ModelOptions{GPULayers: 0})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

// runSchema makes n answers at temperature 1, four at a time in one batch, with or
// without the schema's grammar, and returns how many validate (and the first failure).
func runSchema(t *testing.T, m *runner.Model, prompt string, g grammar.Grammar, n int) (valid int, firstBad string) {
	t.Helper()
	e := newTestEngine(t, m, Options{Slots: 4, SlotCtx: 512})
	sch := compileSchema(t, personSchema)
	toks := tokenize(t, m, prompt)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := runner.DefaultSampling()
			p.Temp, p.Seed = 1, int64(100+i)
			p.Grammar, p.GrammarRoot = g.Text, g.Root
			var b strings.Builder
			res, err := e.Generate(context.Background(), Request{Prompt: toks, Sampling: p, MaxTokens: 400},
				func(p []byte) error { b.Write(p); return nil })
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Error(err)
				return
			}
			if err := validates(sch, b.String()); err == nil {
				valid++
			} else if firstBad == "" {
				firstBad = fmt.Sprintf("%q (%s, %d tokens): %v", b.String(), res.Reason, res.GenTokens, err)
			}
		}()
	}
	wg.Wait()
	return valid, firstBad
}

func testSchemaRuns(t *testing.T, m *runner.Model, prompt string) {
	g, err := grammar.FromJSONSchema([]byte(personSchema))
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	if valid, bad := runSchema(t, m, prompt, g, n); valid != n {
		t.Errorf("with the grammar %d of %d answers validate; first failure: %s", valid, n, bad)
	}
	// The same runs unconstrained: the model does not write this JSON on its own, so the
	// test above measures the grammar, not the model.
	if valid, _ := runSchema(t, m, prompt, grammar.Grammar{}, n); valid != 0 {
		t.Errorf("without the grammar %d of %d answers validate; the test cannot tell the grammar works", valid, n)
	}
}

func TestSchemaGrammarStories(t *testing.T) {
	testSchemaRuns(t, storiesModel(t), "Once upon a time")
}

func TestSchemaGrammarSynthetic(t *testing.T) {
	testSchemaRuns(t, tinyModel(t), "Hello world")
}

func TestJSONObjectGrammar(t *testing.T) {
	m := storiesModel(t)
	g, err := grammar.JSONObject()
	if err != nil {
		t.Fatal(err)
	}
	e := newTestEngine(t, m, Options{SlotCtx: 512})
	obj := compileSchema(t, `{"type":"object"}`)
	for seed := range int64(5) {
		p := runner.DefaultSampling()
		p.Temp, p.Seed, p.Grammar = 1, seed, g.Text
		text, res := gen(t, e, context.Background(), Request{Prompt: tokenize(t, m, "Once upon a time"), Sampling: p, MaxTokens: 450})
		if res.Reason != runner.StopEOG {
			continue // cut off by the token budget: an unbounded grammar may run long
		}
		if err := validates(obj, text); err != nil {
			t.Errorf("seed %d: %q is not a JSON object: %v", seed, text, err)
		}
	}
}

func TestInvalidGrammar(t *testing.T) {
	m := storiesModel(t)
	e := newTestEngine(t, m, Options{SlotCtx: 64})
	for _, c := range []struct{ g, want string }{
		{`root ::= "a" undefined-rule`, "undefined rule 'undefined-rule'"},
		{`root ::= "unterminated`, "unexpected end of input"},
		{`root ::= ("a"`, "expecting ')'"},
		{`other ::= "x"`, "no rule 'root'"},
		{`root ::= root "a"`, "left recursion"},
	} {
		p := greedySampling()
		p.Grammar = c.g
		_, err := e.Generate(context.Background(), Request{Prompt: tokenize(t, m, "Once"), Sampling: p}, func([]byte) error { return nil })
		var ge *runner.GrammarError
		if !errors.As(err, &ge) || !strings.Contains(ge.Reason, c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("grammar %q: error %v, want a one-line *runner.GrammarError saying %q", c.g, err, c.want)
		}
	}
	// A start rule that does not exist would make llama.cpp throw through its C API.
	p := greedySampling()
	p.Grammar, p.GrammarRoot = `root ::= "a"`, "missing"
	if _, err := e.Generate(context.Background(), Request{Prompt: tokenize(t, m, "Once"), Sampling: p}, func([]byte) error { return nil }); err == nil || !strings.Contains(err.Error(), "no rule 'missing'") {
		t.Errorf("missing start rule: error %v", err)
	}
	// The engine still serves requests afterwards.
	if text, _ := gen(t, e, context.Background(), Request{Prompt: tokenize(t, m, "Once upon a time"), Sampling: greedySampling(), MaxTokens: 4}); text == "" {
		t.Error("no text after the failed requests")
	}
}

// A lazy grammar leaves text free until its trigger word, then holds: the story model's
// greedy ", there was a little girl named Lily. She loved ..." becomes what the grammar
// says after "Lily". A grammar the triggered text cannot match ends the answer there,
// where llama.cpp would throw through its C API and abort the process.
func TestGrammarTriggers(t *testing.T) {
	m := storiesModel(t)
	e := newTestEngine(t, m, Options{SlotCtx: 256})
	run := func(g string, triggers ...string) (string, Result) {
		p := greedySampling()
		p.Grammar, p.GrammarTriggers = g, triggers
		return gen(t, e, context.Background(), Request{Prompt: tokenize(t, m, "Once upon a time"), Sampling: p, MaxTokens: 40})
	}
	free, _ := gen(t, e, context.Background(), Request{Prompt: tokenize(t, m, "Once upon a time"), Sampling: greedySampling(), MaxTokens: 40})
	if !strings.HasPrefix(free, ", there was a little girl named Lily.") {
		t.Fatalf("greedy text %q is not the known one", free)
	}
	text, res := run(`root ::= "Lily" " ate a big cake."`, "Lily")
	if text != ", there was a little girl named Lily ate a big cake." || res.Reason != runner.StopEOG {
		t.Errorf("triggered grammar: %q (%s)", text, res.Reason)
	}
	if text, _ := run(`root ::= "Bob" " ate"`, "dragon"); text != free {
		t.Errorf("a trigger that never comes changed the text: %q, want %q", text, free)
	}
	text, res = run(`root ::= "Bob"`, "Lily")
	if text != ", there was a little girl named Lily" || res.Reason != runner.StopEOG {
		t.Errorf("grammar that cannot take its trigger: %q (%s), want the text up to the trigger", text, res.Reason)
	}
}
