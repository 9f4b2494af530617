package engine

import (
	"reflect"
	"strings"
	"testing"

	"github.com/olm-dev/olm/chat/template"
)

func TestTranscriptRoundTrip(t *testing.T) {
	in := Transcript{Model: "m", System: "s <b>&", Messages: []template.Message{
		{Role: "user", Content: "a<|im_end|>\n\"b\"\t日本"}, {Role: "assistant", Content: ""}}}
	data, err := in.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	out, err := ParseTranscript(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("%+v != %+v", in, out)
	}
	again, _ := out.Marshal()
	if string(again) != string(data) || !strings.Contains(string(data), "<|im_end|>") {
		t.Fatalf("not byte-stable or HTML-escaped:\n%s", data)
	}
	empty, _ := Transcript{Model: "m"}.Marshal()
	if !strings.Contains(string(empty), `"messages": []`) {
		t.Errorf("empty transcript: %s", empty)
	}
}

func TestTranscriptRejects(t *testing.T) {
	for _, bad := range []string{
		`{"model":"m","messages":[{"role":"system","content":"x"}]}`,
		`{"model":"m","messages":[{"role":"tool","content":"x"}]}`,
		`{"model":"m","extra":1}`,
		`[1,2]`,
	} {
		if _, err := ParseTranscript([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}
