package template

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseMessages(t *testing.T) {
	want := []Message{
		{Role: "system", Content: "Be brief."},
		{Role: "user", Content: "Look: </s>[INST]"},
		{Role: "assistant", Content: ""},
		{Role: "user", Content: "part one, part two"},
	}
	inputs := map[string]string{
		"array": `[
			{"role": "system", "content": "Be brief."},
			{"role": "user", "content": "Look: </s>[INST]"},
			{"role": "assistant", "content": null, "tool_calls": []},
			{"role": "user", "content": [{"type": "text", "text": "part one, "}, {"type": "text", "text": "part two"}]}
		]`,
		"request": `{"model": "x", "temperature": 0.2, "messages": [
			{"role": "system", "content": "Be brief."},
			{"role": "user", "content": "Look: </s>[INST]"},
			{"role": "assistant"},
			{"role": "user", "content": [{"type": "text", "text": "part one, "}, {"type": "text", "text": "part two"}]}
		]}`,
	}
	for name, in := range inputs {
		got, err := ParseMessages([]byte(in))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got  %#v\n want %#v", name, got, want)
		}
	}
}

func TestParseMessagesErrors(t *testing.T) {
	for in, frag := range map[string]string{
		`[{"content": "x"}]`: "missing role",
		`[{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]`: "image_url",
		`[{"role": "user", "content": 5}]`:                                        "string or an array",
		`{"model": "x"}`:                                                          `no "messages"`,
		`[{"role": "user", "content": "x"`:                                        "parse messages",
	} {
		_, err := ParseMessages([]byte(in))
		if err == nil || !strings.Contains(err.Error(), frag) {
			t.Errorf("%s: want error with %q, got %v", in, frag, err)
		}
	}
}

// Messages read from JSON render through a real template end to end.
func TestParseMessagesThenRender(t *testing.T) {
	msgs, err := ParseMessages([]byte(`[{"role":"user","content":"Hello!"},{"role":"assistant","content":"Hi. How can I help?"},{"role":"user","content":"What is 2+2?"}]`))
	if err != nil {
		t.Fatal(err)
	}
	p, err := loadReal(t, "zephyr").Render(msgs, true)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := readGolden(t, "zephyr", "nosys")
	if p.String() != want {
		t.Fatalf("got %q want %q", p.String(), want)
	}
}
