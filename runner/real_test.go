package runner_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/olm-dev/olm/internal/realmodel"
	"github.com/olm-dev/olm/runner"
)

// commonWords are words any TinyStories continuation uses; random weights give none.
var commonWords = map[string]bool{"the": true, "a": true, "was": true, "and": true, "to": true, "she": true, "he": true,
	"her": true, "his": true, "it": true, "in": true, "of": true, "little": true, "girl": true, "boy": true, "named": true,
	"they": true, "play": true, "loved": true, "day": true, "one": true, "with": true, "said": true, "very": true,
	"big": true, "there": true, "time": true, "friend": true, "happy": true, "park": true, "saw": true, "liked": true}

func loadRealStories(t *testing.T) *runner.Model {
	t.Helper()
	m, err := runner.LoadModel(context.Background(), realmodel.Stories260K(t), runner.ModelOptions{GPULayers: 0})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

// The real model's greedy continuation is English, printable, and the same every time:
// a broken tokenizer, sampler, detokenizer or binding would fail it.
func TestStoriesGreedyIsFluentEnglish(t *testing.T) {
	m := loadRealStories(t)
	var texts []string
	for range 2 {
		c := newCtx(t, m, 256)
		text, _, res := generate(t, c, "Once upon a time", runner.GenerateOptions{MaxTokens: 40, Sampler: sampler(t, 0, 1)})
		if res.GenTokens != 40 {
			t.Fatalf("generated %d tokens, want 40 (stop: %s)", res.GenTokens, res.Reason)
		}
		texts = append(texts, text)
	}
	if texts[0] != texts[1] {
		t.Fatalf("greedy decoding differs between runs:\n%q\n%q", texts[0], texts[1])
	}
	text := texts[0]
	for _, r := range text {
		if !unicode.IsPrint(r) && r != '\n' {
			t.Fatalf("unprintable %U in %q", r, text)
		}
	}
	n := 0
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) }) {
		if commonWords[w] {
			n++
		}
	}
	if n < 5 {
		t.Fatalf("%d common English words in %q, want at least 5", n, text)
	}
	// What llama.cpp's own tools give for this file (../shared/models/README.md).
	if !strings.HasPrefix(text, ", there was a little girl named Lily") {
		t.Fatalf("continuation %q does not start as the model's known one", text)
	}
}

// Token ids of a short text in the real model's SentencePiece vocabulary, with BOS, as
// llama-tokenize gives them; "</s>" typed by a user stays text unless special parsing is on.
func TestStoriesTokenizeGolden(t *testing.T) {
	m := loadRealStories(t)
	toks, err := m.Tokenize("Lily loved to play in the park.", true, false)
	if err != nil {
		t.Fatal(err)
	}
	want := []runner.Token{1, 317, 401, 396, 267, 337, 322, 265, 282, 295, 433, 426}
	if !slices.Equal(toks, want) {
		t.Fatalf("tokens %v, want %v", toks, want)
	}
	// SentencePiece adds the space before the first word.
	if got := m.Detokenize(toks, false); got != " Lily loved to play in the park." {
		t.Fatalf("detokenized %q", got)
	}
	lit, _ := m.Tokenize("</s>", false, false)
	ctl, _ := m.Tokenize("</s>", false, true)
	if slices.Contains(lit, m.EOS()) || !slices.Equal(ctl, []runner.Token{m.EOS()}) {
		t.Fatalf("</s> as text: %v; parsed as special: %v (EOS %d)", lit, ctl, m.EOS())
	}
	v, err := runner.LoadVocab(context.Background(), m.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if vt, _ := v.Tokenize("Lily loved to play in the park.", true, false); !slices.Equal(vt, want) {
		t.Fatalf("vocabulary-only load tokenizes to %v", vt)
	}
}

// EvalWindow gives the same logits for a position whatever the first scored position,
// and leaves the context empty, so a generation after it is unchanged.
func TestEvalWindow(t *testing.T) {
	m := loadRealStories(t)
	c := newCtx(t, m, 64)
	before, _, _ := generate(t, c, "Once upon a time", runner.GenerateOptions{MaxTokens: 12, Sampler: sampler(t, 0, 1)})
	toks, _ := m.Tokenize("Once upon a time, there was a little girl named Lily. She loved to play outside.", true, false)
	nv := m.NVocab()
	all := make([]float32, len(toks)*nv)
	half := make([]float32, (len(toks)-len(toks)/2)*nv)
	if err := c.EvalWindow(context.Background(), toks, 0, all); err != nil {
		t.Fatal(err)
	}
	if err := c.EvalWindow(context.Background(), toks, len(toks)/2, half); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(all[len(toks)/2*nv:], half) {
		t.Fatal("logits of the second half differ between first=0 and first=n/2")
	}
	if c.Used() != 0 {
		t.Fatalf("the cache holds %d tokens after EvalWindow", c.Used())
	}
	if after, _, _ := generate(t, c, "Once upon a time", runner.GenerateOptions{MaxTokens: 12, Sampler: sampler(t, 0, 1)}); after != before {
		t.Fatalf("generation after EvalWindow %q, before %q", after, before)
	}
	if n := c.Size() + 1; c.EvalWindow(context.Background(), make([]runner.Token, n), 0, make([]float32, n*nv)) == nil {
		t.Fatal("a window longer than the context was accepted")
	}
	if err := c.EvalWindow(context.Background(), []runner.Token{1, 9999}, 0, make([]float32, 2*nv)); err == nil {
		t.Fatal("a token outside the vocabulary was accepted")
	}
}

// stories260K's feed-forward rows hold 172 values: llama.cpp cannot make a Q8_0 or
// Q4_0 file of it, and olm says which tensor and what to use; Q6_K falls back to Q8_0 for
// the 64-wide tensors (and F16 for ffn_down), and the error is typed.
func TestStoriesQuantizeBlockSizes(t *testing.T) {
	in := realmodel.Stories260K(t)
	dir := t.TempDir()
	for _, name := range []string{"Q8_0", "Q4_0"} {
		q, _ := runner.ParseQuantType(name)
		_, err := runner.Quantize(context.Background(), in, dir+"/x.gguf", runner.QuantizeOptions{Type: q, Threads: 1})
		if err == nil || !strings.Contains(err.Error(), "blk.0.ffn_down.weight has rows of 172 values") ||
			!strings.Contains(err.Error(), "Q6_K") || strings.Contains(err.Error(), "\n") {
			t.Fatalf("%s: %v", name, err)
		}
		if !errorsIsBlock(err) {
			t.Fatalf("%s: error is not ErrBlockSize: %v", name, err)
		}
	}
	q, _ := runner.ParseQuantType("q6_k")
	// A file of the user's named like a temporary one is left alone.
	mine := filepath.Join(dir, "q6.gguf.tmp")
	if err := os.WriteFile(mine, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	var progress []int
	res, err := runner.Quantize(context.Background(), in, dir+"/q6.gguf", runner.QuantizeOptions{Type: q, Threads: 1,
		Progress: func(done, total int, _ string) { progress = append(progress, done, total) }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Converted["q8_0"] != 32 || res.Converted["f16"] != 5 || res.Tensors != 48 {
		t.Fatalf("Q6_K of stories260K converted %v of %d tensors; want 32 q8_0 and 5 f16 of 48", res.Converted, res.Tensors)
	}
	if len(progress) != 96 || progress[94] != 48 || progress[95] != 48 {
		t.Fatalf("progress %v, want 48 steps to 48/48", progress)
	}
	if b, err := os.ReadFile(mine); err != nil || string(b) != "mine" {
		t.Fatalf("quantize replaced %s: %q %v", mine, b, err)
	}
	if st, err := os.Stat(dir + "/q6.gguf"); err != nil || st.Mode().Perm() != 0o644 {
		t.Fatalf("output: %v %v", st, err)
	}
	if left, _ := filepath.Glob(dir + "/.*.tmp"); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
	if runner.FileType(dir+"/q6.gguf") != q.FType {
		t.Fatalf("output's file type %d, want %d", runner.FileType(dir+"/q6.gguf"), q.FType)
	}
	q8, _ := runner.ParseQuantType("Q8_0")
	if _, err := runner.Quantize(context.Background(), dir+"/q6.gguf", dir+"/up.gguf", runner.QuantizeOptions{Type: q8}); err == nil ||
		!strings.Contains(err.Error(), "below Q8_0") {
		t.Fatalf("Q6_K to Q8_0: %v", err)
	}
}
