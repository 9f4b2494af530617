package engine

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
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
	dir, err := os.MkdirTemp("", "olm-engine-test")
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
func open(tb testing.TB, name, path string, n int) *Model {
	tb.Helper()
	m, err := Open(context.Background(), OpenOptions{Name: name, Path: path,
		Context: func(*runner.Model) runner.ContextOptions { return runner.ContextOptions{Ctx: n, Threads: 1} }})
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// greedy settings make answers deterministic and short.
func greedy(maxTokens int) Params {
	s := runner.DefaultSampling()
	s.Temp = 0
	return Params{Sampling: s, MaxTokens: maxTokens}
}

// newSession starts a session on a tiny model; notices go to the returned buffer.
func newSession(tb testing.TB, path string, ctxLen, maxTokens int) (*Session, *syncBuffer) {
	tb.Helper()
	notes := &syncBuffer{}
	s, err := NewSession(open(tb, "tiny", path, ctxLen), Settings{Params: greedy(maxTokens), Notice: notes})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	return s, notes
}

func discard([]byte) error { return nil }

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
