package engine

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/olm-dev/olm/internal/realmodel"
	"github.com/olm-dev/olm/runner"
)

var (
	storiesOnce sync.Once
	stories     *runner.Model
	storiesErr  error
)

// storiesModel loads the real trained model once for the package's tests.
func storiesModel(t testing.TB) *runner.Model {
	t.Helper()
	path := realmodel.Stories260K(t)
	storiesOnce.Do(func() {
		stories, storiesErr = runner.LoadModel(context.Background(), path, runner.ModelOptions{GPULayers: 0})
	})
	if storiesErr != nil {
		t.Fatal(storiesErr)
	}
	return stories
}

func newTestEngine(t testing.TB, m *runner.Model, o Options) *Engine {
	t.Helper()
	if o.Context.Threads == 0 {
		o.Context.Threads = 1
	}
	e, err := New(m, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}

func tokenize(t testing.TB, m *runner.Model, text string) []runner.Token {
	t.Helper()
	toks, err := m.Tokenize(text, true, false)
	if err != nil {
		t.Fatal(err)
	}
	return toks
}

func greedySampling() runner.SamplingParams {
	p := runner.DefaultSampling()
	p.Temp = 0
	return p
}

// gen runs one request to its end and returns its text.
func gen(t testing.TB, e *Engine, ctx context.Context, req Request) (string, Result) {
	t.Helper()
	var b strings.Builder
	res, err := e.Generate(ctx, req, func(p []byte) error { b.Write(p); return nil })
	if err != nil {
		t.Fatal(err)
	}
	return b.String(), res
}
