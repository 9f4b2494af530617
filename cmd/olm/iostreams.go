package main

import (
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// ioStreams is the terminal seam: commands read and write only through it, so tests run
// them with buffers and a scripted stdin.
type ioStreams struct {
	In     io.Reader
	Out    io.Writer // model text and results only
	Err    io.Writer // progress, stats, warnings
	InTTY  bool
	OutTTY bool
	ErrTTY bool

	// Interrupts lets a command take Ctrl-C for itself (nil in tests: Ctrl-C is not wired).
	Interrupts *interrupts
}

func newIOStreams() *ioStreams {
	return &ioStreams{
		In: os.Stdin, Out: os.Stdout, Err: os.Stderr,
		InTTY:  term.IsTerminal(int(os.Stdin.Fd())),
		OutTTY: term.IsTerminal(int(os.Stdout.Fd())),
		ErrTTY: term.IsTerminal(int(os.Stderr.Fd())),
	}
}

// oneLine folds a multi-line error into one line, as olm promises for every failure.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}
