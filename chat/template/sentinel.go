package template

import (
	"fmt"
	"strconv"
	"strings"
)

// sentinels are placeholders for message contents in the placeholder pass.
// Their prefix appears neither in the template nor in any content, so every
// occurrence in the output is one we put there.
type sentinels struct {
	open, close string
	texts       []string // per message; "" for empty contents, which need no protection
}

func newSentinels(source string, msgs []Message) sentinels {
	const closeMark = "⟧"
	open := ""
	for n := 0; ; n++ {
		open = fmt.Sprintf("⟦olm-content-%d:", n)
		clash := strings.Contains(source, open)
		for _, m := range msgs {
			clash = clash || strings.Contains(m.Content, open)
		}
		if !clash {
			break
		}
	}
	s := sentinels{open: open, close: closeMark, texts: make([]string, len(msgs))}
	for i, m := range msgs {
		if m.Content != "" {
			s.texts[i] = open + strconv.Itoa(i) + closeMark
		}
	}
	return s
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
		if j < 0 || err != nil || n < 0 || n >= len(s.texts) {
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
func align(segs []segment, msgs []Message, want string) ([]Part, bool) {
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
		for _, form := range contentForms(msgs[seg.msg].Content) {
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
