package repl

import (
	"bufio"
	"context"
	"errors"
	"io"
	"strings"
)

// LineReader is the REPL's input seam: a terminal line editor, a plain reader for pipes,
// or a script in tests.
type LineReader interface {
	// ReadLine shows prompt (if it shows prompts at all) and returns one line without its
	// newline. At the end of input it returns io.EOF; on Ctrl-C it returns ErrInterrupt with
	// whatever had been typed.
	ReadLine(ctx context.Context, prompt string) (string, error)
	Close() error
}

// ErrInterrupt is returned by ReadLine when the user pressed Ctrl-C at the prompt.
var ErrInterrupt = errors.New("interrupted")

// plainReader reads lines from a pipe or file: no prompt, no editing, no history. Reads
// run in a goroutine so that a cancelled context ends ReadLine even while the pipe is
// silent.
type plainReader struct {
	r       *bufio.Reader
	pending chan lineResult // the read in flight, if any
	err     error           // sticky end of input
}

type lineResult struct {
	line string
	err  error
}

// NewPlainReader reads lines from r, as for stdin that is not a terminal.
func NewPlainReader(r io.Reader) LineReader {
	return &plainReader{r: bufio.NewReader(r)}
}

func (p *plainReader) ReadLine(ctx context.Context, _ string) (string, error) {
	if p.err != nil {
		return "", p.err
	}
	if p.pending == nil {
		ch := make(chan lineResult, 1)
		p.pending = ch
		go func() {
			line, err := p.r.ReadString('\n')
			ch <- lineResult{line, err}
		}()
	}
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case res := <-p.pending:
		p.pending = nil
		line := strings.TrimSuffix(strings.TrimSuffix(res.line, "\n"), "\r")
		if res.err != nil {
			p.err = res.err
			if res.line != "" { // a last line without a newline still counts
				return line, nil
			}
			return "", res.err
		}
		return line, nil
	}
}

func (p *plainReader) Close() error { return nil }
