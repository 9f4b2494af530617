package repl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/olm-dev/olm/engine"
	"github.com/olm-dev/olm/runner"
)

// Config wires a REPL to its session and its terminal.
type Config struct {
	Session *engine.Session
	Load    engine.Loader // loads models for /model; nil disables it
	In      LineReader    // user input
	Out     io.Writer     // answers and command output
	Err     io.Writer     // errors (give the Session the same writer for its notices)
	// Interrupt makes stop the handler of Ctrl-C until pop is called, so that Ctrl-C during
	// an answer ends only that answer. nil: Ctrl-C is not routed here.
	Interrupt func(stop func()) (pop func())
	Color     bool // dim the REPL's own output (terminals only)
	// Explain turns an engine error into the line the user reads, with what to do about it
	// (the command line's flags are not the REPL's to know). nil: the error as it is.
	Explain func(error) string
}

const (
	prompt     = ">>> "
	morePrompt = "... "
	fence      = `"""`
)

// Run reads input until /exit, end of input or Ctrl-C at an empty prompt. A failed command
// or answer prints one line and the session goes on; only a cancelled ctx ends Run with an
// error.
func Run(ctx context.Context, c Config) error {
	r := &repl{Config: c}
	for {
		text, block, err := r.read(ctx)
		switch {
		case errors.Is(err, ErrInterrupt):
			if strings.TrimSpace(text) == "" {
				return nil
			}
			continue // Ctrl-C discards what was typed, as shells do
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return err
		}
		if strings.TrimSpace(text) == "" {
			continue
		}
		if !block && isCommand(text) {
			if r.command(ctx, text) {
				return nil
			}
			continue
		}
		r.answer(ctx, func(ctx context.Context, emit func([]byte) error) (engine.Answer, error) {
			return r.Session.Ask(ctx, text, emit)
		})
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

type repl struct {
	Config
}

// read returns one input: a line, or a """ block of lines, which is always a message (a
// block that starts with a slash is not a command).
func (r *repl) read(ctx context.Context) (text string, block bool, err error) {
	line, err := r.In.ReadLine(ctx, prompt)
	if err != nil || !strings.HasPrefix(strings.TrimSpace(line), fence) {
		return line, false, err
	}
	first := strings.TrimPrefix(strings.TrimSpace(line), fence)
	if body, ok := strings.CutSuffix(first, fence); ok { // """one line"""
		return body, true, nil
	}
	var lines []string
	if first != "" {
		lines = append(lines, first)
	}
	for {
		next, err := r.In.ReadLine(ctx, morePrompt)
		switch {
		case errors.Is(err, ErrInterrupt): // the block is dropped; the opening line keeps the REPL going
			return line, true, ErrInterrupt
		case errors.Is(err, io.EOF): // an unclosed block at end of input still counts
			return strings.Join(lines, "\n"), true, nil
		case err != nil:
			return "", true, err
		}
		if before, _, ok := strings.Cut(next, fence); ok {
			if before != "" {
				lines = append(lines, before)
			}
			return strings.Join(lines, "\n"), true, nil
		}
		lines = append(lines, next)
	}
}

// answer runs one generation with Ctrl-C routed to stopping it. The partial answer of an
// interrupted generation stays in the conversation.
func (r *repl) answer(ctx context.Context, gen func(context.Context, func([]byte) error) (engine.Answer, error)) {
	var last byte
	a, err := r.interruptible(ctx, func(ctx context.Context) (engine.Answer, error) {
		return gen(ctx, func(b []byte) error {
			last = b[len(b)-1]
			_, err := r.Out.Write(b)
			return err
		})
	})
	if last != 0 && last != '\n' {
		fmt.Fprintln(r.Out)
	}
	if err != nil {
		if r.Explain != nil {
			r.errorf("%s", r.Explain(err))
		} else {
			r.errorf("%v", err)
		}
		return
	}
	// After the answer's line has ended, so a warning never trails the answer's text.
	for _, n := range a.Notices {
		r.notef("%s", n)
	}
	if a.Stats.Stop == runner.StopCancelled {
		r.notef("interrupted")
	}
}

// interruptible runs f with a context that Ctrl-C cancels.
func (r *repl) interruptible(ctx context.Context, f func(context.Context) (engine.Answer, error)) (engine.Answer, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if r.Interrupt != nil {
		pop := r.Interrupt(cancel)
		defer pop()
	}
	return f(ctx)
}

func (r *repl) errorf(format string, args ...any) {
	fmt.Fprintf(r.Err, "error: %s\n", oneLine(fmt.Sprintf(format, args...)))
}

func (r *repl) notef(format string, args ...any) {
	fmt.Fprintln(r.Err, r.dim(fmt.Sprintf(format, args...)))
}

// dim greys the REPL's own text on a colour terminal so answers stand out.
func (r *repl) dim(s string) string {
	if !r.Color {
		return s
	}
	return "\x1b[2m" + s + "\x1b[0m"
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
