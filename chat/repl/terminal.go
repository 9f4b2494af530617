package repl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/chzyer/readline"
)

// terminalReader is the line editor for a real terminal, with history kept in a file.
type terminalReader struct {
	rl *readline.Instance
}

// NewTerminalReader edits lines on the process's terminal (stdin and stdout), keeping
// history in historyFile ("" for none; its folder is made if missing).
func NewTerminalReader(historyFile string) (LineReader, error) {
	if historyFile != "" {
		if err := os.MkdirAll(filepath.Dir(historyFile), 0o755); err != nil {
			return nil, fmt.Errorf("chat history: %w", err)
		}
	}
	rl, err := readline.NewEx(&readline.Config{
		HistoryFile:       historyFile,
		HistorySearchFold: true,
	})
	if err != nil {
		return nil, fmt.Errorf("line editor: %w", err)
	}
	return &terminalReader{rl: rl}, nil
}

// ReadLine cannot watch ctx: the editor owns the terminal until a key ends the line, and
// Ctrl-C arrives as a key (ErrInterrupt), not as a signal.
func (t *terminalReader) ReadLine(_ context.Context, prompt string) (string, error) {
	t.rl.SetPrompt(prompt)
	line, err := t.rl.Readline()
	switch {
	case errors.Is(err, readline.ErrInterrupt):
		return line, ErrInterrupt
	case errors.Is(err, io.EOF):
		return "", io.EOF
	}
	return line, err
}

func (t *terminalReader) Close() error { return t.rl.Close() }

// HistoryFile is where chat history lives: $OLM_HOME/chat_history, with OLM_HOME defaulting
// to $XDG_DATA_HOME/olm, then ~/.local/share/olm. getenv is os.Getenv outside tests.
func HistoryFile(getenv func(string) string) (string, error) {
	home := getenv("OLM_HOME")
	switch {
	case home != "":
	case getenv("XDG_DATA_HOME") != "":
		home = filepath.Join(getenv("XDG_DATA_HOME"), "olm")
	case getenv("HOME") != "":
		home = filepath.Join(getenv("HOME"), ".local", "share", "olm")
	default:
		return "", errors.New("chat history: set OLM_HOME or HOME")
	}
	return filepath.Join(home, "chat_history"), nil
}
