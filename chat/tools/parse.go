package tools

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/olm-dev/olm/chat/template"
)

// EventKind says what an Event carries.
type EventKind int

const (
	// Text is answer text that is no tool call.
	Text EventKind = iota
	// CallStart opens call Index: its ID and Name are known, its arguments follow.
	CallStart
	// CallArgs is the next fragment of call Index's arguments JSON.
	CallArgs
)

// Event is a piece of a parsed answer. The fragments of a call's CallArgs events join
// to its arguments JSON, as OpenAI's streamed tool_calls deltas carry them.
type Event struct {
	Kind  EventKind
	Text  string // Text: the text; CallArgs: the fragment
	Index int    // CallStart, CallArgs: the call's number in this answer, from 0
	ID    string // CallStart
	Name  string // CallStart
}

// MalformedError is a tool call the model began but did not write as the family's
// format says (bad JSON, no name, cut off by the token limit).
type MalformedError struct {
	Raw    string // the call's text as the model wrote it
	Reason string
}

func (e *MalformedError) Error() string {
	return fmt.Sprintf("malformed tool call (%s): %.80q", e.Reason, e.Raw)
}

// Parse splits a whole answer into its text and its calls. A malformed call is an error
// (*MalformedError); the text then is the whole answer, so nothing is lost.
func Parse(f Family, answer string) (string, []template.ToolCall, error) {
	p := NewParser(f)
	var text strings.Builder
	evs := p.Push(answer)
	tail, err := p.Close()
	for _, e := range append(evs, tail...) {
		if e.Kind == Text {
			text.WriteString(e.Text)
		}
	}
	if err != nil {
		return answer, nil, err
	}
	return strings.TrimSpace(text.String()), p.Calls(), nil
}

// Parser reads an answer as it streams. Push returns what can be said so far: text that
// cannot be the start of a call goes out at once, a possible start is held back until
// it is clearly one or clearly not, and a call's arguments go out as they are written.
type Parser struct {
	fam   Family
	NewID func() string // ids for calls (default NewID); set before the first Push

	mode    mode
	pending string // text received and not yet consumed
	calls   []template.ToolCall
	err     error

	// The call being read.
	obj       strings.Builder
	depth     int
	inStr     bool
	esc       bool
	headerAt  int  // bytes of obj the header took (0: not matched yet)
	argsOn    bool // the next bytes belong to the arguments value
	argsBegun bool
	argsDepth int
	callID    string
	callName  string
	emitted   bool // CallStart was sent for this call
}

type mode int

const (
	modeText     mode = iota
	modeStart         // the answer's beginning, where Mistral and Llama 3 calls may start
	modeObject        // before a call's opening brace
	modeInObject      // inside a call's object
	modeAfter         // after a call: the family's separator or closing text
	modeListOpen      // Mistral: before the list's [
)

const (
	hermesOpen  = "<tool_call>"
	hermesClose = "</tool_call>"
	mistralTag  = "[TOOL_CALLS]"
	pythonTag   = "<|python_tag|>"
)

// NewParser reads answers of family f; None passes everything through as text.
func NewParser(f Family) *Parser {
	p := &Parser{fam: f, NewID: NewID}
	if f == Mistral || f == Llama3 {
		p.mode = modeStart
	}
	return p
}

// Calls are the complete calls so far.
func (p *Parser) Calls() []template.ToolCall { return p.calls }

// Push takes the next piece of the answer.
func (p *Parser) Push(s string) []Event {
	p.pending += s
	var out events
	p.run(&out, false)
	return out.list
}

// Close ends the answer: held-back text goes out, and a call left open is an error.
func (p *Parser) Close() ([]Event, error) {
	var out events
	p.run(&out, true)
	switch p.mode {
	case modeObject, modeInObject, modeListOpen:
		if p.err == nil {
			p.fail(&out, "the answer ends inside it")
		}
	}
	if p.pending != "" {
		out.text(p.pending)
		p.pending = ""
	}
	return out.list, p.err
}

type events struct{ list []Event }

func (e *events) text(s string) {
	if s == "" {
		return
	}
	if n := len(e.list); n > 0 && e.list[n-1].Kind == Text {
		e.list[n-1].Text += s
		return
	}
	e.list = append(e.list, Event{Kind: Text, Text: s})
}

func (e *events) args(i int, s string) {
	if s == "" {
		return
	}
	if n := len(e.list); n > 0 && e.list[n-1].Kind == CallArgs && e.list[n-1].Index == i {
		e.list[n-1].Text += s
		return
	}
	e.list = append(e.list, Event{Kind: CallArgs, Index: i, Text: s})
}

// run consumes pending as far as it can; at the end (final) nothing is held back.
func (p *Parser) run(out *events, final bool) {
	for {
		before := len(p.pending)
		m := p.mode
		p.step(out, final)
		if len(p.pending) == before && p.mode == m {
			return
		}
	}
}

func (p *Parser) step(out *events, final bool) {
	switch p.mode {
	case modeText:
		p.stepText(out, final)
	case modeStart:
		p.stepStart(out, final)
	case modeListOpen:
		t := strings.TrimLeftFunc(p.pending, unicode.IsSpace)
		switch {
		case t == "":
			if final {
				p.pending = ""
			}
		case t[0] == '[':
			p.pending = t[1:]
			p.mode = modeObject
		default:
			p.fail(out, "no [ after "+mistralTag)
		}
	case modeObject:
		t := strings.TrimLeftFunc(p.pending, unicode.IsSpace)
		switch {
		case t == "":
			p.pending = t
		case t[0] == '{':
			p.pending = t
			p.beginObject()
		default:
			p.fail(out, "no JSON object where the call should start")
		}
	case modeInObject:
		p.stepObject(out)
	case modeAfter:
		p.stepAfter(out, final)
	}
}

// stepText passes text through, holding back what may begin the family's call tag.
func (p *Parser) stepText(out *events, final bool) {
	var tag string
	switch p.fam {
	case Hermes:
		tag = hermesOpen
	case Mistral:
		tag = mistralTag
	default:
		out.text(p.pending)
		p.pending = ""
		return
	}
	if i := strings.Index(p.pending, tag); i >= 0 {
		out.text(p.pending[:i])
		p.pending = p.pending[i+len(tag):]
		if p.fam == Mistral {
			p.mode = modeListOpen
		} else {
			p.mode = modeObject
		}
		return
	}
	keep := 0
	if !final {
		keep = partialSuffix(p.pending, tag)
	}
	out.text(p.pending[:len(p.pending)-keep])
	p.pending = p.pending[len(p.pending)-keep:]
}

// stepStart looks at the answer's first characters for a call with no tag: Mistral's
// list (its [TOOL_CALLS] token renders as nothing) or Llama 3's bare object.
func (p *Parser) stepStart(out *events, final bool) {
	t := strings.TrimLeftFunc(p.pending, unicode.IsSpace)
	if p.fam == Llama3 {
		if strings.HasPrefix(t, pythonTag) {
			t = strings.TrimLeftFunc(t[len(pythonTag):], unicode.IsSpace)
		} else if !final && t != "" && strings.HasPrefix(pythonTag, t) {
			return // maybe the tag, not yet whole
		}
	}
	if t == "" {
		if final {
			p.mode = modeText
		}
		return
	}
	switch {
	case p.fam == Llama3 && t[0] == '{':
		p.pending = t
		p.mode = modeObject
	case p.fam == Mistral && strings.HasPrefix(t, mistralTag):
		p.pending = t[len(mistralTag):]
		p.mode = modeListOpen
	case p.fam == Mistral && !final && strings.HasPrefix(mistralTag, t):
		return // maybe [TOOL_CALLS] spelled out, not yet whole
	case p.fam == Mistral && t[0] == '[':
		rest := strings.TrimLeftFunc(t[1:], unicode.IsSpace)
		if rest == "" && !final {
			return
		}
		if strings.HasPrefix(rest, "{") {
			p.pending = rest
			p.mode = modeObject
			return
		}
		p.mode = modeText
	default:
		p.mode = modeText
	}
}

var headerRE = regexp.MustCompile(`^\{\s*"name"\s*:\s*("(?:[^"\\]|\\.)*")\s*,\s*"(?:arguments|parameters)"\s*:`)

// maxHeader is how far into a call the parser looks for "name" before "arguments";
// past it the call is read whole and sent when it ends.
const maxHeader = 512

func (p *Parser) beginObject() {
	p.obj.Reset()
	p.depth, p.inStr, p.esc = 0, false, false
	p.headerAt, p.argsOn, p.argsBegun, p.argsDepth = 0, false, false, 0
	p.callID, p.callName, p.emitted = p.NewID(), "", false
	p.mode = modeInObject
}

// stepObject reads the call's object byte by byte: it tracks nesting outside strings,
// sends CallStart once "name" is read, then the arguments as they come.
func (p *Parser) stepObject(out *events) {
	idx := len(p.calls)
	var frag strings.Builder
	i := 0
	for ; i < len(p.pending); i++ {
		c := p.pending[i]
		p.obj.WriteByte(c)
		if p.argsOn {
			if !p.argsBegun && (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
				// leading space of the value: not part of the arguments text
			} else {
				p.argsBegun = true
				frag.WriteByte(c)
			}
		}
		switch {
		case p.esc:
			p.esc = false
		case p.inStr:
			switch c {
			case '\\':
				p.esc = true
			case '"':
				p.inStr = false
			}
		case c == '"':
			p.inStr = true
		case c == '{' || c == '[':
			p.depth++
		case c == '}' || c == ']':
			p.depth--
		}
		if p.argsOn && p.argsBegun && !p.inStr && p.depth == 1 && (c == '}' || c == ']') {
			p.argsOn = false // the arguments value closed
		}
		if !p.emitted && p.headerAt == 0 && p.obj.Len() <= maxHeader && c == ':' && !p.inStr {
			if m := headerRE.FindStringSubmatch(p.obj.String()); m != nil {
				var name string
				if json.Unmarshal([]byte(m[1]), &name) == nil {
					p.headerAt = p.obj.Len()
					p.callName = name
					p.emitted = true
					p.argsOn = true
					out.list = append(out.list, Event{Kind: CallStart, Index: idx, ID: p.callID, Name: name})
				}
			}
		}
		if p.depth == 0 {
			i++
			break
		}
	}
	if p.emitted {
		out.args(idx, frag.String())
	}
	p.pending = p.pending[i:]
	if p.depth == 0 && p.obj.Len() > 0 {
		p.endObject(out)
	}
}

// endObject checks the finished call and records it.
func (p *Parser) endObject(out *events) {
	raw := p.obj.String()
	var c struct {
		Name       *string         `json:"name"`
		Arguments  json.RawMessage `json:"arguments"`
		Parameters json.RawMessage `json:"parameters"`
	}
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		p.fail(out, "not valid JSON: "+err.Error())
		return
	}
	args := c.Arguments
	if args == nil {
		args = c.Parameters
	}
	switch {
	case c.Name == nil || *c.Name == "":
		p.fail(out, "no function name")
		return
	case args == nil:
		args = json.RawMessage("{}")
	}
	norm, err := template.ArgumentsJSON(args)
	if err != nil {
		p.fail(out, err.Error())
		return
	}
	idx := len(p.calls)
	if !p.emitted { // "arguments" came before "name": send the call whole
		out.list = append(out.list, Event{Kind: CallStart, Index: idx, ID: p.callID, Name: *c.Name})
		out.args(idx, string(norm))
	}
	p.calls = append(p.calls, template.ToolCall{ID: p.callID, Name: *c.Name, Arguments: norm})
	p.obj.Reset()
	p.mode = modeAfter
}

// stepAfter reads what follows a call: Hermes' closing tag, Mistral's "," or "]",
// Llama 3's ";". Anything else is text again.
func (p *Parser) stepAfter(out *events, final bool) {
	t := strings.TrimLeftFunc(p.pending, unicode.IsSpace)
	if t == "" {
		if final {
			p.pending = ""
		}
		return
	}
	switch p.fam {
	case Hermes:
		if strings.HasPrefix(t, hermesClose) {
			p.pending = t[len(hermesClose):]
			p.mode = modeText
			return
		}
		if !final && strings.HasPrefix(hermesClose, t) {
			return
		}
		p.mode = modeText // no closing tag: the call stands, what follows is text
	case Mistral:
		switch t[0] {
		case ',':
			p.pending = t[1:]
			p.mode = modeObject
		case ']':
			p.pending = t[1:]
			p.mode = modeText
		default:
			p.fail(out, "no , or ] after a call in the list")
		}
	case Llama3:
		if t[0] == ';' {
			p.pending = t[1:]
			p.mode = modeObject
			return
		}
		p.mode = modeText
	default:
		p.mode = modeText
	}
}

// fail records a malformed call; the rest of the answer is text.
func (p *Parser) fail(out *events, reason string) {
	if p.err == nil {
		p.err = &MalformedError{Raw: p.obj.String() + p.pending, Reason: reason}
	}
	p.obj.Reset()
	p.mode = modeText
	p.fam = None // after a malformed call nothing more is parsed
}

// partialSuffix is the length of the longest end of s that begins tag.
func partialSuffix(s, tag string) int {
	for n := min(len(s), len(tag)-1); n > 0; n-- {
		if strings.HasSuffix(s, tag[:n]) {
			return n
		}
	}
	return 0
}
