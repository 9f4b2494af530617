package perplexity

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// fakeModel gives each position logits from a seeded generator, plus bonus on the token
// that really follows, so its perplexity is known to be between 1 and NVocab.
type fakeModel struct {
	nVocab  int
	seed    uint64
	bonus   float32 // added to the true next token's logit
	noise   float32 // scale of the random logits
	windows [][]int32
}

func (f *fakeModel) EvalWindow(_ context.Context, toks []int32, first int, dst []float32) error {
	f.windows = append(f.windows, append([]int32(nil), toks...))
	for p := first; p < len(toks); p++ {
		r := rand.New(rand.NewPCG(f.seed, uint64(toks[p])*7919+uint64(p)))
		row := dst[(p-first)*f.nVocab : (p-first+1)*f.nVocab]
		for i := range row {
			row[i] = f.noise * float32(r.NormFloat64())
		}
		if p+1 < len(toks) {
			row[toks[p+1]] += f.bonus
		}
	}
	return nil
}

func text(n, nVocab int) []int32 {
	r := rand.New(rand.NewPCG(1, 2))
	t := make([]int32, n)
	for i := range t {
		t[i] = int32(r.IntN(nVocab))
	}
	return t
}

// Uniform logits give a perplexity of exactly the vocabulary size, and the windows and
// scored positions are llama-perplexity's: n/ctx windows, ctx-1-ctx/2 scored in each.
func TestUniformIsVocabSize(t *testing.T) {
	m := &fakeModel{nVocab: 50}
	toks := text(330, 50)
	res, err := Run(context.Background(), m, toks, Options{Ctx: 64, NVocab: 50, BOS: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(res.PPL-50) > 1e-9 || res.PPLStderr > 1e-9 {
		t.Fatalf("uniform logits: ppl %v ± %v, want 50 ± 0", res.PPL, res.PPLStderr)
	}
	if res.NChunks != 5 || res.NTokens != 5*(64-1-32) || res.NCtx != 64 {
		t.Fatalf("got %d windows, %d tokens scored, ctx %d; want 5, %d, 64", res.NChunks, res.NTokens, res.NCtx, 5*31)
	}
	for i, w := range m.windows {
		if w[0] != 1 {
			t.Fatalf("window %d starts with %d, not BOS", i, w[0])
		}
		if !slicesEqual(w[1:], toks[i*64+1:(i+1)*64]) {
			t.Fatalf("window %d is not the text's tokens %d..%d", i, i*64, (i+1)*64)
		}
	}
}

// A model that favours the true token scores below the vocabulary size, and the error
// bar is the standard error of the mean NLL carried through exp.
func TestPerplexityAndStderr(t *testing.T) {
	m := &fakeModel{nVocab: 40, seed: 3, bonus: 3, noise: 1}
	toks := text(200, 40)
	res, err := Run(context.Background(), m, toks, Options{Ctx: 20, NVocab: 40, BOS: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Recompute by hand from the same logits.
	var nlls []float64
	dst := make([]float32, 10*40)
	for i := range 10 {
		w := toks[i*20 : (i+1)*20]
		m.EvalWindow(context.Background(), w, 10, dst)
		for j := 0; j < 9; j++ {
			nlls = append(nlls, nll(dst[j*40:(j+1)*40], w[10+j+1]))
		}
	}
	var sum, sum2 float64
	for _, v := range nlls {
		sum += v
		sum2 += v * v
	}
	n := float64(len(nlls))
	mean := sum / n
	se := math.Sqrt((sum2/n - mean*mean) / (n - 1))
	if math.Abs(res.PPL-math.Exp(mean)) > 1e-9 || math.Abs(res.PPLStderr-math.Exp(mean)*se) > 1e-9 {
		t.Fatalf("ppl %v ± %v, by hand %v ± %v", res.PPL, res.PPLStderr, math.Exp(mean), math.Exp(mean)*se)
	}
	if res.PPL >= 40 || res.PPL <= 1 || res.PPLStderr <= 0 {
		t.Fatalf("ppl %v ± %v: the bonus should pull it below 40", res.PPL, res.PPLStderr)
	}
	if m.windows[0][0] != toks[0] {
		t.Fatal("BOS -1 must leave the first token alone")
	}
}

func TestTooShort(t *testing.T) {
	_, err := Run(context.Background(), &fakeModel{nVocab: 8}, text(100, 8), Options{Ctx: 64, NVocab: 8, BOS: -1}, nil)
	if !errors.Is(err, ErrTooShort) {
		t.Fatalf("100 tokens with ctx 64: %v, want ErrTooShort", err)
	}
	if _, err := Windows(100, Options{Ctx: 2}); err == nil {
		t.Fatal("ctx 2 accepted")
	}
	if n, _ := Windows(1000, Options{Ctx: 100, Chunks: 3}); n != 3 {
		t.Fatalf("Chunks 3 gave %d windows", n)
	}
}

// A model compared with its own saved logits has KL 0 (to the file's 16-bit precision),
// agrees on every top token and has a perplexity ratio of 1; the saved perplexity is the
// exact one.
func TestSaveAndCompareWithItself(t *testing.T) {
	m := &fakeModel{nVocab: 33, seed: 5, bonus: 2, noise: 2}
	toks := text(300, 33)
	o := Options{Ctx: 32, NVocab: 33, BOS: 0}
	var buf bytes.Buffer
	saved, err := Run(context.Background(), m, toks, o, &buf)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := Run(context.Background(), m, toks, o, nil)
	if saved != plain {
		t.Fatalf("saving changed the result: %+v vs %+v", saved, plain)
	}
	wantLen := 20 + 4*9*32 + 9*(32-1-16)*rowLen(33)*2
	if buf.Len() != wantLen {
		t.Fatalf("file is %d bytes, want %d", buf.Len(), wantLen)
	}
	lr, err := NewLogitsReader(bytes.NewReader(buf.Bytes()), int64(len(buf.Bytes())))
	if err != nil {
		t.Fatal(err)
	}
	if lr.Header.NCtx != 32 || lr.Header.NVocab != 33 || lr.Header.NChunks() != 9 || !slicesEqual(lr.Header.Tokens, toks[:288]) {
		t.Fatalf("header %+v", lr.Header)
	}
	r, err := Compare(context.Background(), m, lr, o)
	if err != nil {
		t.Fatal(err)
	}
	if r.KLMean > 1e-6 || r.KLMean < -1e-6 || r.Top1 != 1 || math.Abs(r.PPLRatio-1) > 1e-3 {
		t.Fatalf("self-comparison: KL %g, top-1 %v, ratio %v", r.KLMean, r.Top1, r.PPLRatio)
	}
	if math.Abs(r.PPL-plain.PPL) > 1e-9 || math.Abs(r.PPLBase-plain.PPL)/plain.PPL > 1e-3 {
		t.Fatalf("ppl %v, base %v, want both %v", r.PPL, r.PPLBase, plain.PPL)
	}
}

// KL from the file matches KL computed from the reference's exact logits, and a model
// further from the reference has a larger KL and lower agreement.
func TestKLMatchesExact(t *testing.T) {
	base := &fakeModel{nVocab: 64, seed: 7, bonus: 2, noise: 2}
	toks := text(400, 64)
	o := Options{Ctx: 40, NVocab: 64, BOS: -1}
	var buf bytes.Buffer
	if _, err := Run(context.Background(), base, toks, o, &buf); err != nil {
		t.Fatal(err)
	}
	var prev KLResult
	for _, bonus := range []float32{2.2, 3.5} {
		other := &noisy{fakeModel: base, extra: bonus}
		lr, _ := NewLogitsReader(bytes.NewReader(buf.Bytes()), int64(len(buf.Bytes())))
		r, err := Compare(context.Background(), other, lr, o)
		if err != nil {
			t.Fatal(err)
		}
		exact := exactKL(base, other, toks, o)
		if math.Abs(r.KLMean-exact)/exact > 1e-3 {
			t.Fatalf("KL from the file %g, exact %g", r.KLMean, exact)
		}
		if prev.NTokens > 0 && (r.KLMean <= prev.KLMean || r.Top1 > prev.Top1) {
			t.Fatalf("a farther model: KL %g (was %g), top-1 %v (was %v)", r.KLMean, prev.KLMean, r.Top1, prev.Top1)
		}
		if r.KLMedian <= 0 || r.KLP99 < r.KLMedian || r.KLMax < r.KLP99 {
			t.Fatalf("percentiles out of order: median %g, p99 %g, max %g", r.KLMedian, r.KLP99, r.KLMax)
		}
		prev = r
	}
}

// noisy perturbs another model's logits.
type noisy struct {
	*fakeModel
	extra float32
}

func (n *noisy) EvalWindow(ctx context.Context, toks []int32, first int, dst []float32) error {
	n.fakeModel.EvalWindow(ctx, toks, first, dst)
	r := rand.New(rand.NewPCG(99, uint64(len(toks))))
	for i := range dst[:(len(toks)-first)*n.nVocab] {
		dst[i] += (n.extra - 2) * float32(r.NormFloat64())
	}
	return nil
}

func exactKL(base Evaluator, other Evaluator, toks []int32, o Options) float64 {
	f := first(o.Ctx)
	a := make([]float32, (o.Ctx-f)*o.NVocab)
	b := make([]float32, (o.Ctx-f)*o.NVocab)
	var sum float64
	var n int
	for i := 0; i < len(toks)/o.Ctx; i++ {
		w := toks[i*o.Ctx : (i+1)*o.Ctx]
		base.EvalWindow(context.Background(), w, f, a)
		other.EvalWindow(context.Background(), w, f, b)
		for j := 0; j+1 < o.Ctx-f; j++ {
			pa, pb := a[j*o.NVocab:(j+1)*o.NVocab], b[j*o.NVocab:(j+1)*o.NVocab]
			ma, _, la := logSumExp(pa)
			mb, _, lb := logSumExp(pb)
			for k := range pa {
				lpa := float64(pa[k]-ma) - la
				lpb := float64(pb[k]-mb) - lb
				sum += math.Exp(lpa) * (lpa - lpb)
			}
			n++
		}
	}
	return sum / float64(n)
}

func TestNotALogitsFile(t *testing.T) {
	if _, err := NewLogitsReader(bytes.NewReader([]byte("GGUF\x03\x00\x00\x00")), 8); !errors.Is(err, ErrNotLogits) {
		t.Fatalf("a GGUF header: %v", err)
	}
	var buf bytes.Buffer
	WriteLogitsHeader(&buf, LogitsHeader{NCtx: 8, NVocab: 4, Tokens: []int32{0, 1, 2, 3, 0, 1, 2, 3}})
	// Of unknown length, a header without rows opens, and its first window is an error.
	lr, err := NewLogitsReader(bytes.NewReader(buf.Bytes()), -1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lr.next(); !errors.Is(err, ErrDamagedLogits) {
		t.Fatalf("a file without rows read a window: %v", err)
	}
}

// A cut or crafted logits file is refused before anything its header asks for is
// allocated: headers that once asked for 2^48 tokens (a panic in make) or 2^43 bytes of
// rows (Go's out-of-memory crash).
func TestDamagedLogitsFileIsRefused(t *testing.T) {
	header := func(nCtx, nVocab, nChunks uint32, tail int) []byte {
		b := []byte(logitsMagic)
		for _, v := range []uint32{nCtx, nVocab, nChunks} {
			b = binary.LittleEndian.AppendUint32(b, v)
		}
		return append(b, make([]byte, tail)...)
	}
	var good bytes.Buffer
	m := &fakeModel{nVocab: 9, seed: 3, bonus: 2, noise: 2}
	if _, err := Run(context.Background(), m, text(64, 9), Options{Ctx: 16, NVocab: 9, BOS: -1}, &good); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{
		"2^48 tokens":      header(1<<24, 512, 1<<24, 64),
		"2^43 bytes/row":   header(1<<20, 1<<24, 1, 4<<20),
		"cut in the rows":  good.Bytes()[:good.Len()-10],
		"cut in the token": good.Bytes()[:30],
		"a byte too many":  append(bytes.Clone(good.Bytes()), 0),
	} {
		_, err := NewLogitsReader(bytes.NewReader(b), int64(len(b)))
		if !errors.Is(err, ErrDamagedLogits) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := NewLogitsReader(bytes.NewReader(good.Bytes()), int64(good.Len())); err != nil {
		t.Fatalf("the whole file: %v", err)
	}
}

func slicesEqual(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
