package tools

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/olm-dev/olm/chat/template"
)

type wantCall struct{ name, args string }

type parseCase struct {
	name   string
	fam    Family
	answer string
	text   string
	calls  []wantCall
	bad    string // a MalformedError reason it must give
}

var parseCases = []parseCase{
	{name: "qwen single", fam: Hermes,
		answer: "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>",
		calls:  []wantCall{{"get_weather", `{"city": "Paris"}`}}},
	{name: "qwen text then two calls", fam: Hermes,
		answer: "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": {\"zone\": \"Europe/Paris\", \"fmt\": \"a \\\"}\\\" b\"}}\n</tool_call>",
		text:   "Let me check.",
		calls:  []wantCall{{"get_weather", `{"city": "Paris"}`}, {"get_time", `{"zone": "Europe/Paris", "fmt": "a \"}\" b"}`}}},
	{name: "qwen arguments before name", fam: Hermes,
		answer: "<tool_call>\n{\"arguments\": {\"city\": \"Oslo\"}, \"name\": \"get_weather\"}\n</tool_call>",
		calls:  []wantCall{{"get_weather", `{"city": "Oslo"}`}}},
	{name: "qwen no tool call", fam: Hermes, answer: "It is sunny. I used <b>no</b> tool.", text: "It is sunny. I used <b>no</b> tool."},
	{name: "qwen unclosed object", fam: Hermes,
		answer: "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}\n</tool_call>", bad: "ends inside it"},
	{name: "qwen bad JSON", fam: Hermes, answer: "<tool_call>\n{\"name\": get_weather, \"arguments\": {}}\n</tool_call>", bad: "not valid JSON"},
	{name: "qwen no name", fam: Hermes, answer: "<tool_call>\n{\"arguments\": {}}\n</tool_call>", bad: "no function name"},
	{name: "qwen not an object", fam: Hermes, answer: "<tool_call>get_weather(Paris)</tool_call>", bad: "no JSON object"},
	{name: "mistral single, control token dropped", fam: Mistral,
		answer: " [{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}]",
		calls:  []wantCall{{"get_weather", `{"city": "Paris"}`}}},
	{name: "mistral two, tag spelled out", fam: Mistral,
		answer: "[TOOL_CALLS] [{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}, {\"name\": \"get_time\", \"arguments\": {\"zone\": \"CET\"}, \"id\": \"abcdefghi\"}]",
		calls:  []wantCall{{"get_weather", `{"city": "Paris"}`}, {"get_time", `{"zone": "CET"}`}}},
	{name: "mistral text", fam: Mistral, answer: "[1, 2] are numbers.", text: "[1, 2] are numbers."},
	{name: "mistral malformed", fam: Mistral, answer: "[TOOL_CALLS] [{\"name\": \"get_weather\", \"arguments\": {\"city\": }}]", bad: "not valid JSON"},
	{name: "mistral arguments not an object", fam: Mistral, answer: " [{\"name\": \"f\", \"arguments\": [1]}]", bad: "JSON object"},
	{name: "llama3 single", fam: Llama3,
		answer: "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}",
		calls:  []wantCall{{"get_weather", `{"city": "Paris"}`}}},
	{name: "llama3 python tag, two calls", fam: Llama3,
		answer: "<|python_tag|>{\"name\": \"a\", \"parameters\": {}}; {\"name\": \"b\", \"parameters\": {\"x\": 1}}",
		calls:  []wantCall{{"a", `{}`}, {"b", `{"x": 1}`}}},
	{name: "llama3 text", fam: Llama3, answer: "Paris is in {France}.", text: "Paris is in {France}."},
	{name: "llama3 cut off", fam: Llama3, answer: "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Pa", bad: "ends inside it"},
}

func checkCalls(t *testing.T, got []template.ToolCall, want []wantCall) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d calls %+v, want %d", len(got), got, len(want))
	}
	for i, w := range want {
		if got[i].Name != w.name || string(got[i].Arguments) != w.args || len(got[i].ID) != 9 {
			t.Errorf("call %d: %s %s (id %q), want %s %s", i, got[i].Name, got[i].Arguments, got[i].ID, w.name, w.args)
		}
	}
}

func TestParse(t *testing.T) {
	for _, c := range parseCases {
		t.Run(c.name, func(t *testing.T) {
			text, calls, err := Parse(c.fam, c.answer)
			if c.bad != "" {
				var me *MalformedError
				if !errors.As(err, &me) || !strings.Contains(me.Reason, c.bad) {
					t.Fatalf("error %v, want a malformed call: %s", err, c.bad)
				}
				if text != c.answer || calls != nil {
					t.Errorf("a malformed answer must come back whole as text, got %q and %d calls", text, len(calls))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if text != c.text {
				t.Errorf("text %q, want %q", text, c.text)
			}
			checkCalls(t, calls, c.calls)
		})
	}
}

// streamAll feeds the answer in pieces of n bytes and gathers what the events say.
func streamAll(t *testing.T, f Family, answer string, n int) (text string, calls []template.ToolCall, events []Event, err error) {
	t.Helper()
	p := NewParser(f)
	for i := 0; i < len(answer); i += n {
		events = append(events, p.Push(answer[i:min(i+n, len(answer))])...)
	}
	tail, err := p.Close()
	events = append(events, tail...)
	var b strings.Builder
	for _, e := range events {
		switch e.Kind {
		case Text:
			b.WriteString(e.Text)
		case CallStart:
			if e.Index != len(calls) {
				t.Fatalf("call %d started after %d calls", e.Index, len(calls))
			}
			calls = append(calls, template.ToolCall{ID: e.ID, Name: e.Name})
		case CallArgs:
			if e.Index != len(calls)-1 {
				t.Fatalf("arguments for call %d while call %d is open", e.Index, len(calls)-1)
			}
			calls[e.Index].Arguments = append(calls[e.Index].Arguments, e.Text...)
		}
	}
	return b.String(), calls, events, err
}

// Streamed in pieces of every size, the events say what Parse says: the same text, the
// same calls, and the argument fragments join to each call's arguments.
func TestParserStreams(t *testing.T) {
	for _, c := range parseCases {
		whole, wholeCalls, wholeErr := Parse(c.fam, c.answer)
		for n := 1; n <= len(c.answer); n++ {
			text, calls, _, err := streamAll(t, c.fam, c.answer, n)
			if (err != nil) != (wholeErr != nil) {
				t.Fatalf("%s, pieces of %d: error %v, whole: %v", c.name, n, err, wholeErr)
			}
			if err != nil {
				continue
			}
			if strings.TrimSpace(text) != whole {
				t.Fatalf("%s, pieces of %d: text %q, want %q", c.name, n, text, whole)
			}
			if len(calls) != len(wholeCalls) {
				t.Fatalf("%s, pieces of %d: %d calls, want %d", c.name, n, len(calls), len(wholeCalls))
			}
			for i := range calls {
				if calls[i].Name != wholeCalls[i].Name || string(calls[i].Arguments) != string(wholeCalls[i].Arguments) {
					t.Fatalf("%s, pieces of %d: call %d streamed as %s %s, want %s %s", c.name, n, i,
						calls[i].Name, calls[i].Arguments, wholeCalls[i].Name, wholeCalls[i].Arguments)
				}
			}
		}
	}
}

// Text that may begin a call is held back until it is clearly text; a call's arguments
// go out while the model writes them, before the call ends.
func TestParserHoldsBackAndStreamsArguments(t *testing.T) {
	p := NewParser(Hermes)
	if ev := p.Push("Checking <tool"); len(ev) != 1 || ev[0].Text != "Checking " {
		t.Fatalf("events %+v, want only the text before the possible tag", ev)
	}
	if ev := p.Push("box> is a word"); len(ev) != 1 || ev[0].Text != "<toolbox> is a word" {
		t.Fatalf("events %+v, want the held-back text once it is no tag", ev)
	}
	p = NewParser(Hermes)
	ev := p.Push("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Pa")
	if len(ev) != 2 || ev[0].Kind != CallStart || ev[0].Name != "get_weather" || ev[1].Kind != CallArgs || ev[1].Text != `{"city": "Pa` {
		t.Fatalf("events %+v, want the call's start and its first argument bytes", ev)
	}
	ev = p.Push("ris\"}}\n</tool_call>")
	if len(ev) != 1 || ev[0].Text != `ris"}` {
		t.Fatalf("events %+v, want the rest of the arguments only", ev)
	}
	if tail, err := p.Close(); err != nil || len(tail) != 0 || len(p.Calls()) != 1 {
		t.Fatalf("close: %+v %v, %d calls", tail, err, len(p.Calls()))
	}
}

// The calls a real template writes into an assistant turn parse back to the calls it was
// given: the format the parser reads is the one each model is taught.
func TestParseTemplateOutput(t *testing.T) {
	for _, c := range []struct {
		golden, from, to string
		fam              Family
	}{
		{"qwen2.5.toolcalls.txt", "<|im_start|>assistant\n", "<|im_end|>", Hermes},
		{"mistral-v0.3.toolcalls.txt", "[/INST]", "</s>", Mistral},
	} {
		b, err := os.ReadFile(filepath.Join("..", "template", "testdata", "golden", c.golden))
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		i := strings.Index(s, c.from)
		j := strings.Index(s[i+len(c.from):], c.to)
		if i < 0 || j < 0 {
			t.Fatalf("%s: no assistant turn", c.golden)
		}
		answer := s[i+len(c.from) : i+len(c.from)+j]
		text, calls, err := Parse(c.fam, answer)
		if err != nil || text != "" {
			t.Fatalf("%s: %q: text %q, err %v", c.golden, answer, text, err)
		}
		checkCalls(t, calls, []wantCall{{"get_weather", `{"city": "Paris"}`}, {"get_time", `{"zone": "Europe/Paris"}`}})
	}
}

func TestDetect(t *testing.T) {
	for name, want := range map[string]Family{"qwen2.5": Hermes, "mistral-v0.3": Mistral, "chatml": None, "llama2-chat": None} {
		b, err := os.ReadFile(filepath.Join("..", "template", "testdata", "jinja", name+".jinja"))
		if err != nil {
			t.Fatal(err)
		}
		if got := Detect(string(b)); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
}

func TestParseTools(t *testing.T) {
	list, values, err := ParseTools(json.RawMessage(`[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}]`))
	if err != nil || len(list) != 1 || len(values) != 1 || list[0].Function.Name != "get_weather" {
		t.Fatalf("%+v %v %v", list, values, err)
	}
	for raw, want := range map[string]string{
		`[{"type":"retrieval"}]`:                                "only \"function\"",
		`[{"function":{"name":"has space"}}]`:                   "function name",
		`[{"function":{"name":"f"}},{"function":{"name":"f"}}]`: "twice",
		`[{"function":{"name":"f","parameters":"x"}}]`:          "JSON Schema object",
		`{"a":1}`: "tools",
	} {
		if _, _, err := ParseTools(json.RawMessage(raw)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", raw, err, want)
		}
	}
}

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id := NewID()
		if len(id) != 9 || strings.Trim(id, idChars) != "" || seen[id] {
			t.Fatalf("id %q", id)
		}
		seen[id] = true
	}
}
