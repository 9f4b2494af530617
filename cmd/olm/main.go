// Command olm downloads open language models and runs them locally through llama.cpp.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/olm-dev/olm/engine"
)

func main() {
	ios := newIOStreams()
	ctx, intr, stop := withInterrupts(context.Background(), ios.Err)
	ios.Interrupts = intr
	code := execute(ctx, ios, os.Args[1:])
	stop()
	os.Exit(code)
}

// execute runs the command line and maps its outcome to an exit status: 130 for Ctrl-C,
// as shells expect, 1 for any other error (printed on one line).
func execute(ctx context.Context, ios *ioStreams, args []string) int {
	root := newRootCmd(ios)
	root.SetArgs(normalizeBenchArgs(args))
	err := root.ExecuteContext(ctx)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, context.Canceled) || errors.Is(err, errInterrupted):
		fmt.Fprintln(ios.Err, "olm: interrupted")
		return 130
	default:
		fmt.Fprintf(ios.Err, "olm: %s\n", oneLine(flagHint(err)))
		return 1
	}
}

// flagHint adds to an engine error the flag that fixes it: the engine speaks of contexts
// and queues, the command line of --ctx.
func flagHint(err error) string {
	var ce *engine.ContextError
	switch {
	case errors.As(err, &ce):
		return fmt.Sprintf("%v; raise --ctx (now %d) or shorten the prompt", err, ce.Ctx)
	}
	return err.Error()
}

// chatHint is flagHint inside olm chat, where --ctx is set for the whole session.
func chatHint(err error) string {
	var ce *engine.ContextError
	if errors.As(err, &ce) {
		return fmt.Sprintf("%v; shorten the message, or start olm chat again with a larger --ctx (now %d)", err, ce.Ctx)
	}
	return err.Error()
}

// errInterrupted reports a Ctrl-C that was handled (output kept) and should exit 130.
var errInterrupted = errors.New("interrupted")
