package template

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/nikolalohinski/gonja/v2/exec"
)

// sentinels are placeholders for message contents in the placeholder pass.
// Their prefix appears neither in the template nor in any content, so every
// occurrence in the output is one we put there.
//
// With args, the string values in the arguments of the messages' tool calls get
// placeholders too (slots after the messages'), so text a model wrote into a call, which
// the next turn sends back, cannot become control tokens either.
type sentinels struct {
	open, close string
	texts       []string // per message; "" for empty contents, which need no protection
	args        bool     // protect tool-call argument strings
	argValues   []string // the protected strings, in the order the placeholder pass met them
	nMsgs       int
}

func newSentinels(source string, msgs []Message, args bool) *sentinels {
	const closeMark = "⟧"
	var strs []string
	if args {
		for _, m := range msgs {
			for _, c := range m.ToolCalls {
				var v any
				if json.Unmarshal(c.Arguments, &v) == nil {
					strs = appendStrings(strs, v)
				}
			}
		}
	}
	open := ""
	for n := 0; ; n++ {
		open = fmt.Sprintf("⟦olm-content-%d:", n)
		clash := strings.Contains(source, open)
		for _, m := range msgs {
			clash = clash || strings.Contains(m.Content, open)
		}
		for _, a := range strs {
			clash = clash || strings.Contains(a, open)
		}
		if !clash {
			break
		}
	}
	s := &sentinels{open: open, close: closeMark, texts: make([]string, len(msgs)), args: args, nMsgs: len(msgs)}
	for i, m := range msgs {
		if m.Content != "" {
			s.texts[i] = open + strconv.Itoa(i) + closeMark
		}
	}
	return s
}

// appendStrings adds the strings in a decoded JSON value (object keys too: a template
// prints them as well).
func appendStrings(out []string, v any) []string {
	switch t := v.(type) {
	case string:
		out = append(out, t)
	case []any:
		for _, e := range t {
			out = appendStrings(out, e)
		}
	case map[string]any:
		for k, e := range t {
			out = appendStrings(append(out, k), e)
		}
	}
	return out
}

// argMark records an argument string and returns its placeholder.
func (s *sentinels) argMark(v string) string {
	if v == "" {
		return v
	}
	s.argValues = append(s.argValues, v)
	return s.open + strconv.Itoa(s.nMsgs+len(s.argValues)-1) + s.close
}

// protect is v (an argument value from OrderedJSON) with its strings replaced by
// placeholders; keys stay, templates rarely print them apart from the whole object.
func (s *sentinels) protect(v any) any {
	switch t := v.(type) {
	case string:
		return s.argMark(t)
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = s.protect(e)
		}
		return out
	case exec.Dict:
		d := exec.Dict{Pairs: make([]*exec.Pair, len(t.Pairs))}
		for i, p := range t.Pairs {
			d.Pairs[i] = &exec.Pair{Key: p.Key, Value: exec.AsValue(s.protect(p.Value.Interface()))}
		}
		return d
	}
	return v
}

// forms lists what slot n may have become in the real rendering.
func (s *sentinels) forms(n int, msgs []Message) []string {
	if n < s.nMsgs {
		return contentForms(msgs[n].Content)
	}
	v := s.argValues[n-s.nMsgs]
	var b strings.Builder
	writePyString(&b, v) // inside tojson's output, as most templates print arguments
	q := b.String()
	return []string{q[1 : len(q)-1], v}
}

// segment is scaffolding text, or (msg >= 0) the place of message msg's content.
type segment struct {
	text string
	msg  int
}

// split cuts the placeholder pass output into scaffolding and content slots.
func (s sentinels) split(out string) []segment {
	var segs []segment
	for {
		i := strings.Index(out, s.open)
		if i < 0 {
			break
		}
		rest := out[i+len(s.open):]
		j := strings.Index(rest, s.close)
		n, err := strconv.Atoi(rest[:max(j, 0)])
		if j < 0 || err != nil || n < 0 || n >= s.nMsgs+len(s.argValues) {
			// A mangled placeholder: treat as text; alignment will then fail.
			segs = append(segs, segment{text: out[:i+len(s.open)], msg: -1})
			out = rest
			continue
		}
		if i > 0 {
			segs = append(segs, segment{text: out[:i], msg: -1})
		}
		segs = append(segs, segment{msg: n})
		out = rest[j+len(s.close):]
	}
	if out != "" {
		segs = append(segs, segment{text: out, msg: -1})
	}
	return segs
}

// align finds, for each content slot, the form of that message's content
// (as is, or with edge whitespace stripped) that makes scaffolding plus
// contents equal the real rendering. It backtracks over the few forms.
func (s *sentinels) align(segs []segment, msgs []Message, want string) ([]Part, bool) {
	stack := make([]Part, 0, len(segs))
	var walk func(k, pos int) bool
	walk = func(k, pos int) bool {
		if k == len(segs) {
			return pos == len(want)
		}
		seg := segs[k]
		if seg.msg < 0 {
			if !strings.HasPrefix(want[pos:], seg.text) {
				return false
			}
			stack = append(stack, Part{Text: seg.text})
			if walk(k+1, pos+len(seg.text)) {
				return true
			}
			stack = stack[:len(stack)-1]
			return false
		}
		for _, form := range s.forms(seg.msg, msgs) {
			if !strings.HasPrefix(want[pos:], form) {
				continue
			}
			stack = append(stack, Part{Text: form, Literal: true})
			if walk(k+1, pos+len(form)) {
				return true
			}
			stack = stack[:len(stack)-1]
		}
		return false
	}
	if !walk(0, 0) {
		return nil, false
	}
	var b builder
	for _, p := range stack {
		b.add(p.Text, p.Literal)
	}
	return b.parts, true
}

// contentForms lists the ways templates commonly print a content: as is,
// strip(), lstrip(), rstrip().
func contentForms(c string) []string {
	forms := []string{c}
	for _, f := range []string{strings.TrimSpace(c), strings.TrimLeft(c, " \t\n\r\v\f"), strings.TrimRight(c, " \t\n\r\v\f")} {
		dup := false
		for _, g := range forms {
			dup = dup || g == f
		}
		if !dup {
			forms = append(forms, f)
		}
	}
	return forms
}
