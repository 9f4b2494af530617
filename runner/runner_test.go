package runner_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/olm-dev/olm/runner"
	"github.com/olm-dev/olm/synth"
)

// tinyModel writes a tiny random-weight llama model once per test binary.
var tinyPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "olm-runner-test")
	if err != nil {
		panic(err)
	}
	tinyPath = filepath.Join(dir, "tiny-llama.gguf")
	spec, err := synth.Tiny("llama")
	if err != nil {
		panic(err)
	}
	if err := synth.Write(context.Background(), tinyPath, spec, nil); err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func load(t testing.TB) *runner.Model {
	t.Helper()
	m, err := runner.LoadModel(context.Background(), tinyPath, runner.ModelOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

func newCtx(t testing.TB, m *runner.Model, n int) *runner.Context {
	t.Helper()
	c, err := m.NewContext(runner.ContextOptions{Ctx: n, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func sampler(t testing.TB, temp float64, seed int64) *runner.Sampler {
	t.Helper()
	p := runner.DefaultSampling()
	p.Temp, p.Seed = temp, seed
	s, err := runner.NewSampler(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// generate runs one generation and returns the text and each emitted chunk.
func generate(t testing.TB, c *runner.Context, prompt string, o runner.GenerateOptions) (string, []string, runner.Result) {
	t.Helper()
	toks, err := c.Model().Tokenize(prompt, true, false)
	if err != nil {
		t.Fatal(err)
	}
	var chunks []string
	res, err := c.Generate(context.Background(), toks, o, func(b []byte) error {
		chunks = append(chunks, string(b))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(chunks, ""), chunks, res
}

func TestTokenizeRoundTrip(t *testing.T) {
	m := load(t)
	for _, text := range []string{"Hello world", "日本 é の", "a1!? ", "x\ny"} {
		toks, err := m.Tokenize(text, false, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(toks) == 0 {
			t.Fatalf("%q tokenized to nothing", text)
		}
		if got := m.Detokenize(toks, false); got != text {
			t.Errorf("round trip of %q gave %q (tokens %v)", text, got, toks)
		}
	}
	withBOS, _ := m.Tokenize("Hello", true, false)
	if withBOS[0] != m.BOS() {
		t.Errorf("addSpecial did not prepend BOS: %v", withBOS)
	}
}

func TestSpecialTokensOnlyParsedWhenAsked(t *testing.T) {
	m := load(t)
	lit, _ := m.Tokenize("</s>", false, false)
	spec, _ := m.Tokenize("</s>", false, true)
	if len(spec) != 1 || spec[0] != m.EOS() {
		t.Fatalf("parseSpecial: %v, want [EOS %d]", spec, m.EOS())
	}
	for _, tk := range lit {
		if tk == m.EOS() {
			t.Fatalf("user text </s> became the EOS token: %v", lit)
		}
	}
}

func TestGreedyIsDeterministic(t *testing.T) {
	m := load(t)
	c := newCtx(t, m, 256)
	o := runner.GenerateOptions{MaxTokens: 24, Sampler: sampler(t, 0, 1)}
	a, _, _ := generate(t, c, "Hello world", o)
	c.Reset()
	b, _, _ := generate(t, c, "Hello world", o)
	if a != b || a == "" {
		t.Fatalf("greedy runs differ or are empty:\n%q\n%q", a, b)
	}
}

func TestSeedsAtTemperature(t *testing.T) {
	m := load(t)
	c := newCtx(t, m, 256)
	run := func(seed int64) string {
		c.Reset()
		s, _, _ := generate(t, c, "Hello world", runner.GenerateOptions{MaxTokens: 32, Sampler: sampler(t, 1.5, seed)})
		return s
	}
	if a, b := run(7), run(7); a != b {
		t.Fatalf("same seed gave different text:\n%q\n%q", a, b)
	}
	if a, b := run(7), run(8); a == b {
		t.Fatalf("seeds 7 and 8 gave the same text %q", a)
	}
}

func TestStopStringAcrossTokensIsCutExactly(t *testing.T) {
	m := load(t)
	c := newCtx(t, m, 256)
	o := runner.GenerateOptions{MaxTokens: 48, Sampler: sampler(t, 1.5, 3)}
	_, _, _ = generate(t, c, "Hello world", o)
	// Find two neighbouring generated tokens with printable text, and make a stop string of
	// the end of one and the start of the next.
	toks := c.Cached()
	prompt, _ := m.Tokenize("Hello world", true, false)
	gen := toks[len(prompt):]
	var stop string
	var before strings.Builder
	for i := 0; i+1 < len(gen); i++ {
		a, b := string(m.Piece(nil, gen[i], false)), string(m.Piece(nil, gen[i+1], false))
		if len(a) >= 1 && len(b) >= 1 && utf8.ValidString(a) && utf8.ValidString(b) {
			stop = a[len(a)-1:] + b[:1]
			break
		}
		before.WriteString(a)
	}
	if stop == "" {
		t.Fatal("no two printable neighbouring tokens generated")
	}
	c.Reset()
	full, _, _ := generate(t, c, "Hello world", o)
	want := full[:strings.Index(full, stop)]
	c.Reset()
	o.Stop = []string{stop}
	got, _, res := generate(t, c, "Hello world", o)
	if res.Reason != runner.StopString {
		t.Fatalf("reason %s, want stop", res.Reason)
	}
	if got != want {
		t.Fatalf("with stop %q got %q, want %q", stop, got, want)
	}
}

func TestMultiByteStreamedWhole(t *testing.T) {
	m := load(t)
	c := newCtx(t, m, 256)
	// High temperature over a vocabulary with byte-fallback tokens produces split characters.
	full, chunks, _ := generate(t, c, "日本", runner.GenerateOptions{MaxTokens: 200, Sampler: sampler(t, 3, 11)})
	pos := 0
	for _, ch := range chunks[:len(chunks)-1] {
		pos += len(ch)
		if utf8.RuneStart(full[pos]) {
			continue
		}
		// The boundary falls inside a byte sequence: that is only allowed if the sequence is
		// invalid anyway (random weights emit stray bytes).
		start := pos
		for start > 0 && !utf8.RuneStart(full[start]) {
			start--
		}
		if r, size := utf8.DecodeRuneInString(full[start:]); r != utf8.RuneError && start+size > pos {
			t.Fatalf("character %q at byte %d was split between chunks", r, start)
		}
	}
	if !strings.ContainsFunc(full, func(r rune) bool { return r > 127 && r != utf8.RuneError }) {
		t.Fatalf("generation produced no multi-byte character to test with: %q", full)
	}
}

func TestCancellationStopsWithinOneToken(t *testing.T) {
	m := load(t)
	c := newCtx(t, m, 256)
	toks, _ := m.Tokenize("Hello", true, false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	emitted := 0
	res, err := c.Generate(ctx, toks, runner.GenerateOptions{Sampler: sampler(t, 1, 1)}, func(b []byte) error {
		emitted++
		if emitted == 3 {
			cancel()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Reason != runner.StopCancelled {
		t.Fatalf("reason %s, want cancelled", res.Reason)
	}
	if res.GenTokens > 3+4 { // a chunk may hold back a few tokens' bytes, never more than a stop/UTF-8 tail
		t.Fatalf("generated %d tokens after cancelling at the 3rd chunk", res.GenTokens)
	}
}

func TestLoadReportsProgress(t *testing.T) {
	var seen []float64
	m, err := runner.LoadModel(context.Background(), tinyPath, runner.ModelOptions{Progress: func(p float64) { seen = append(seen, p) }})
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	if len(seen) == 0 || seen[len(seen)-1] != 1 {
		t.Fatalf("progress %v, want it to end at 1", seen)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] < seen[i-1] {
			t.Fatalf("progress went backwards: %v", seen)
		}
	}
}

func TestCancelledLoad(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := runner.LoadModel(ctx, tinyPath, runner.ModelOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("load with a cancelled context: %v", err)
	}
}

func TestContextFullEndsCleanly(t *testing.T) {
	m := load(t)
	c := newCtx(t, m, 32)
	// Greedy decoding of this random model never samples end-of-generation.
	_, _, res := generate(t, c, "Hello world", runner.GenerateOptions{Sampler: sampler(t, 0, 1)})
	if res.Reason != runner.StopContextFull {
		t.Fatalf("reason %s, want context_full", res.Reason)
	}
	if c.Used() != c.Size() {
		t.Fatalf("used %d of %d", c.Used(), c.Size())
	}
	long := strings.Repeat("Hello world ", 4*c.Size())
	toks, _ := m.Tokenize(long, true, false)
	_, err := c.Generate(context.Background(), toks, runner.GenerateOptions{Sampler: sampler(t, 1, 1)}, nil)
	if !errors.Is(err, runner.ErrContextFull) {
		t.Fatalf("a prompt longer than the context: %v", err)
	}
}

func TestCachedRecordsTheDecodedTokens(t *testing.T) {
	m := load(t)
	c := newCtx(t, m, 256)
	text, _, res := generate(t, c, "Hello world", runner.GenerateOptions{MaxTokens: 12, Sampler: sampler(t, 1.5, 5)})
	prompt, _ := m.Tokenize("Hello world", true, false)
	gen := c.Cached()[len(prompt):]
	// Every sampled token but the last has been decoded into the cache, in order.
	if len(gen) != res.GenTokens-1 {
		t.Fatalf("cache holds %d generated tokens, want %d", len(gen), res.GenTokens-1)
	}
	if got := m.Detokenize(gen, false); !strings.HasPrefix(text, got) {
		t.Fatalf("cached tokens read %q, which does not begin the generated text %q", got, text)
	}
}

func TestKVCacheReuseEvaluatesOnlyTheNewSuffix(t *testing.T) {
	m := load(t)
	c := newCtx(t, m, 256)
	o := runner.GenerateOptions{MaxTokens: 8, Sampler: sampler(t, 0, 1)}
	_, _, first := generate(t, c, "Hello world", o)
	if first.PromptEvaluated != first.PromptTokens {
		t.Fatalf("first turn evaluated %d of %d", first.PromptEvaluated, first.PromptTokens)
	}
	turn1, _ := m.Tokenize("Hello world", true, false)
	extra, _ := m.Tokenize(" and more", false, false)
	next := append(append([]runner.Token{}, c.Cached()...), extra...)
	res, err := c.Generate(context.Background(), next, o, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.PromptEvaluated != len(extra) {
		t.Fatalf("second turn evaluated %d tokens, want only the %d new ones (history %d)", res.PromptEvaluated, len(extra), len(turn1))
	}
	if res.Perf.PromptTokens != len(extra) {
		t.Fatalf("llama.cpp decoded %d prompt tokens, want %d", res.Perf.PromptTokens, len(extra))
	}
}

func TestLoadFreeDoesNotLeak(t *testing.T) {
	cycle := func() {
		m, err := runner.LoadModel(context.Background(), tinyPath, runner.ModelOptions{})
		if err != nil {
			t.Fatal(err)
		}
		c, err := m.NewContext(runner.ContextOptions{Ctx: 64, Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
		m.Close()
	}
	for range 5 { // warm up allocator arenas and caches
		cycle()
	}
	runner.ReleaseMemory()
	before := rss(t)
	for range 50 {
		cycle()
	}
	runner.ReleaseMemory()
	grew := rss(t) - before
	// One leaked model+context is several hundred KiB; 50 of them would be tens of MiB.
	if grew > 4<<20 {
		t.Fatalf("RSS grew by %d KiB over 50 load/free cycles", grew>>10)
	}
}

func rss(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Fatal(err)
	}
	var size, res int64
	if _, err := fmtSscan(string(b), &size, &res); err != nil {
		t.Fatal(err)
	}
	return res * int64(os.Getpagesize())
}

func TestBadFiles(t *testing.T) {
	dir := t.TempDir()
	good, _ := os.ReadFile(tinyPath)
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	arch := bytes.Index(good, []byte("general.architecture")) + len("general.architecture") + 4 + 8
	unknown := append([]byte{}, good...)
	copy(unknown[arch:], "llamz")
	cases := []struct{ path, want string }{
		{filepath.Join(dir, "missing.gguf"), "no such file"},
		{dir, "is a directory"},
		{write("notes.txt", []byte("just some text\n")), "not a GGUF file (it looks like a text file)"},
		{write("pic.png", []byte("\x89PNG\r\n\x1a\n....")), "PNG image"},
		{write("empty.gguf", nil), "empty"},
		{write("header.gguf", good[:100]), "corrupt GGUF header"},
		{write("kv.gguf", good[:3000]), "truncated or corrupt"},
		{write("data.gguf", good[:len(good)/2]), "truncated or corrupt"},
		{write("arch.gguf", unknown), "unknown model architecture: 'llamz'"},
	}
	for _, tc := range cases {
		_, err := runner.LoadModel(context.Background(), tc.path, runner.ModelOptions{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to mention %q", filepath.Base(tc.path), err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error spans lines: %q", tc.path, err)
		}
	}
}

func TestBadContextOptions(t *testing.T) {
	m := load(t)
	for _, o := range []runner.ContextOptions{{Ctx: 0}, {Ctx: -5}, {Ctx: 64, Threads: 1000}, {Ctx: 64, Threads: -1}, {Ctx: 64, Batch: -1}} {
		if c, err := m.NewContext(o); err == nil {
			c.Close()
			t.Errorf("NewContext(%+v) succeeded", o)
		}
	}
	if _, err := m.NewContext(runner.ContextOptions{Ctx: 64, TypeK: "q3"}); err == nil {
		t.Error("unknown KV type accepted")
	}
}

// The loop reuses one batch, one sampler chain and one piece buffer: a longer generation
// must not allocate more than a short one.
func TestGenerationLoopDoesNotAllocatePerToken(t *testing.T) {
	m := load(t)
	c := newCtx(t, m, 256)
	s := sampler(t, 0, 1)
	prompt, _ := m.Tokenize("Hello", true, false)
	allocs := func(n int) float64 {
		return testing.AllocsPerRun(5, func() {
			c.Reset()
			res, err := c.Generate(context.Background(), prompt, runner.GenerateOptions{MaxTokens: n, Sampler: s}, func([]byte) error { return nil })
			if err != nil || res.GenTokens != n {
				t.Fatalf("generate %d: %v, %d tokens", n, err, res.GenTokens)
			}
		})
	}
	if short, long := allocs(4), allocs(128); long > short {
		t.Fatalf("128 tokens allocate %v times, 4 tokens %v: the loop allocates per token", long, short)
	}
}

// ProbeModel asks llama.cpp about a file without loading its weights: it accepts what
// LoadModel loads and refuses, in the same words, what LoadModel refuses.
func TestProbeModel(t *testing.T) {
	if err := runner.ProbeModel(context.Background(), tinyPath); err != nil {
		t.Fatalf("probe of the tiny model: %v", err)
	}
	good, _ := os.ReadFile(tinyPath)
	arch := bytes.Index(good, []byte("general.architecture")) + len("general.architecture") + 4 + 8
	bad := append([]byte{}, good...)
	copy(bad[arch:], "llamz")
	p := filepath.Join(t.TempDir(), "llamz.gguf")
	if err := os.WriteFile(p, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := runner.ProbeModel(context.Background(), p); err == nil || !strings.Contains(err.Error(), "unknown model architecture: 'llamz'") {
		t.Errorf("probe of an unknown architecture: %v", err)
	}
	if err := runner.ProbeModel(context.Background(), filepath.Join(t.TempDir(), "none.gguf")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("probe of a missing file: %v", err)
	}
}
