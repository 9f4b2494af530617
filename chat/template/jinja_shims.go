package template

import (
	"fmt"
	"strings"
	"time"

	"github.com/nikolalohinski/gonja/v2/exec"
)

// RaisedError is what a template's raise_exception("...") call becomes, so
// callers can show the template's own reason (e.g. Mistral's "Conversation
// roles must alternate ...").
type RaisedError struct {
	Message string
}

func (e *RaisedError) Error() string { return "template refused the conversation: " + e.Message }

// raiser mirrors the raise_exception global HF gives templates. gonja
// flattens errors returned by functions into strings, so the raised message
// is also recorded here, one raiser per render.
type raiser struct {
	raised *RaisedError
}

func (r *raiser) call(_ *exec.Evaluator, params *exec.VarArgs) (*exec.Value, error) {
	msg := "raise_exception called"
	if len(params.Args) > 0 {
		msg = params.Args[0].String()
	}
	if r.raised == nil {
		r.raised = &RaisedError{Message: msg}
	}
	return nil, r.raised
}

// strftimeNow mirrors HF's strftime_now global (Llama 3.x templates print
// today's date with it). Only the common directives are translated.
func strftimeNow(_ *exec.Evaluator, params *exec.VarArgs) (string, error) {
	if len(params.Args) != 1 || !params.Args[0].IsString() {
		return "", fmt.Errorf("strftime_now expects one format string")
	}
	return strftime(time.Now(), params.Args[0].String()), nil
}

func strftime(t time.Time, format string) string {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		if format[i] != '%' || i+1 == len(format) {
			b.WriteByte(format[i])
			continue
		}
		i++
		switch format[i] {
		case 'Y':
			fmt.Fprintf(&b, "%04d", t.Year())
		case 'y':
			fmt.Fprintf(&b, "%02d", t.Year()%100)
		case 'm':
			fmt.Fprintf(&b, "%02d", int(t.Month()))
		case 'd':
			fmt.Fprintf(&b, "%02d", t.Day())
		case 'B':
			b.WriteString(t.Month().String())
		case 'b':
			b.WriteString(t.Month().String()[:3])
		case 'A':
			b.WriteString(t.Weekday().String())
		case 'a':
			b.WriteString(t.Weekday().String()[:3])
		case 'H':
			fmt.Fprintf(&b, "%02d", t.Hour())
		case 'I':
			fmt.Fprintf(&b, "%02d", (t.Hour()+11)%12+1)
		case 'M':
			fmt.Fprintf(&b, "%02d", t.Minute())
		case 'S':
			fmt.Fprintf(&b, "%02d", t.Second())
		case 'p':
			b.WriteString(t.Format("PM"))
		case 'j':
			fmt.Fprintf(&b, "%03d", t.YearDay())
		case '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			b.WriteByte(format[i])
		}
	}
	return b.String()
}

// pyList is a list with Python's negative indexing. gonja's own misses the first item
// from the end (x[-1] of a one-item list is undefined), which breaks templates that
// read user_messages[-1] or messages[-1] in a one-question conversation.
type pyList []any

func (l pyList) GetItem(key any) (*exec.Value, bool) {
	i, ok := key.(int)
	if !ok {
		return exec.AsValue(nil), false
	}
	if i < 0 {
		i += len(l)
	}
	if i < 0 || i >= len(l) {
		return exec.AsValue(nil), false
	}
	return exec.ToValue(l[i]), true
}

// filterPyList is the list filter, returning a pyList.
func filterPyList(builtin exec.FilterFunction) exec.FilterFunction {
	return func(e *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
		out := builtin(e, in, params)
		if l, ok := out.Interface().([]any); ok {
			return exec.AsValue(pyList(l))
		}
		return out
	}
}
