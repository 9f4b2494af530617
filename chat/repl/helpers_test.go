package repl

import (
	"bytes"
	"context"
	"fmt"
	"github.com/olm-dev/olm/engine"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/olm-dev/olm/runner"
	"github.com/olm-dev/olm/synth"
)

// Tiny random-weight models written once for the package's tests.
var (
	llamaChatML string // llama (SentencePiece vocab) with a ChatML template and its control tokens
	qwenChatML  string // qwen2 (byte-level BPE vocab), same template
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "olm-repl-test")
	if err != nil {
		panic(err)
	}
	llamaChatML = writeTiny(dir, "llama")
	qwenChatML = writeTiny(dir, "qwen2")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func writeTiny(dir, kind string) string {
	path := filepath.Join(dir, kind+".gguf") // 4096 tokens: room for the long-history benchmark
	if err := synth.WriteTinyChat(context.Background(), path, kind, ""); err != nil {
		panic(err)
	}
	return path
}

// open loads a tiny model with a context of n tokens.
func open(tb testing.TB, name, path string, n int) *engine.Model {
	tb.Helper()
	m, err := engine.Open(context.Background(), engine.OpenOptions{Name: name, Path: path,
		Context: func(*runner.Model) runner.ContextOptions { return runner.ContextOptions{Ctx: n, Threads: 1} }})
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// greedy settings make answers deterministic and short.
func greedy(maxTokens int) engine.Params {
	s := runner.DefaultSampling()
	s.Temp = 0
	return engine.Params{Sampling: s, MaxTokens: maxTokens}
}

// newSession starts a session on a tiny model; notices go to the returned buffer.
func newSession(tb testing.TB, path string, ctxLen, maxTokens int) (*engine.Session, *syncBuffer) {
	tb.Helper()
	notes := &syncBuffer{}
	s, err := engine.NewSession(open(tb, "tiny", path, ctxLen), engine.Settings{Params: greedy(maxTokens), Notice: notes})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	return s, notes
}

func discard([]byte) error { return nil }

// scriptReader plays a list of inputs to the REPL. An item is a line, or an error.
type scriptReader struct {
	items   []any
	prompts []string
}

func script(items ...any) *scriptReader { return &scriptReader{items: items} }

// lines scripts plain text, one item per line.
func lines(text string) *scriptReader {
	var items []any
	for _, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		items = append(items, l)
	}
	return script(items...)
}

func (s *scriptReader) ReadLine(ctx context.Context, prompt string) (string, error) {
	s.prompts = append(s.prompts, prompt)
	if len(s.items) == 0 {
		return "", io.EOF
	}
	it := s.items[0]
	s.items = s.items[1:]
	switch v := it.(type) {
	case string:
		return v, nil
	case error:
		return "", v
	case interrupted:
		return string(v), ErrInterrupt
	}
	panic(fmt.Sprintf("bad script item %T", it))
}

func (s *scriptReader) Close() error { return nil }

// interrupted is a Ctrl-C with the given text typed.
type interrupted string

// syncBuffer is a bytes.Buffer safe for the generation goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// runScript runs the REPL on a session with a script and returns stdout and stderr.
func runScript(t *testing.T, sess *engine.Session, in LineReader, notes *syncBuffer, load engine.Loader) (string, string) {
	t.Helper()
	var out bytes.Buffer
	err := Run(context.Background(), Config{Session: sess, Load: load, In: in, Out: &out, Err: notes})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return out.String(), notes.String()
}
