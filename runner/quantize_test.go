package runner_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/olm-dev/olm/runner"
)

// QuantizeFile runs llama.cpp's own quantizer: the tiny F32 model becomes a smaller Q8_0
// model that loads and generates.
func TestQuantizeFile(t *testing.T) {
	out := filepath.Join(t.TempDir(), "tiny-q8_0.gguf")
	if err := runner.QuantizeFile(context.Background(), tinyPath, out, 7, 1); err != nil {
		t.Fatal(err)
	}
	in, _ := os.Stat(tinyPath)
	q, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if q.Size() >= in.Size() {
		t.Fatalf("Q8_0 file is %d bytes, the F32 one %d", q.Size(), in.Size())
	}
	m, err := runner.LoadModel(context.Background(), out, runner.ModelOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if !strings.Contains(m.Desc(), "Q8_0") {
		t.Fatalf("quantized model describes itself as %q", m.Desc())
	}
	c := newCtx(t, m, 64)
	if _, _, res := generate(t, c, "Hello", runner.GenerateOptions{MaxTokens: 4, Sampler: sampler(t, 0, 1)}); res.GenTokens != 4 {
		t.Fatalf("generated %d tokens", res.GenTokens)
	}
	if err := runner.QuantizeFile(context.Background(), filepath.Join(t.TempDir(), "none.gguf"), out+"2", 7, 1); err == nil {
		t.Fatal("quantizing a missing file succeeded")
	}
	if _, err := os.Stat(out + "2"); err == nil {
		t.Fatal("a failed quantization left an output file")
	}
}

func errorsIsBlock(err error) bool { return errors.Is(err, runner.ErrBlockSize) }

// Types are llama-quantize's names; unknown ones list the valid ones, and the ones that
// need an importance matrix say so.
func TestParseQuantType(t *testing.T) {
	for in, want := range map[string]int{"Q4_K_M": 15, "q4_k": 15, "Q8_0": 7, "q5_k_m": 17, "Q6_K": 18, "q4_0": 2, "F16": 1} {
		q, err := runner.ParseQuantType(in)
		if err != nil || q.FType != want {
			t.Errorf("%s: %+v, %v; want ftype %d", in, q, err, want)
		}
	}
	if _, err := runner.ParseQuantType("Q9"); err == nil || !strings.Contains(err.Error(), "Q4_K_M") || !strings.Contains(err.Error(), "Q8_0") {
		t.Errorf("unknown type: %v", err)
	}
	if _, err := runner.ParseQuantType("IQ2_XS"); err == nil || !strings.Contains(err.Error(), "importance matrix") {
		t.Errorf("IQ2_XS: %v", err)
	}
	q4, _ := runner.ParseQuantType("Q4_0")
	q8, _ := runner.ParseQuantType("Q8_0")
	if err := runner.CheckRequantize(2, q8, true); err == nil || !strings.Contains(err.Error(), "below Q8_0") {
		t.Errorf("Q4_0 to Q8_0: %v", err)
	}
	if err := runner.CheckRequantize(7, q4, false); err == nil || !strings.Contains(err.Error(), "--allow-requantize") {
		t.Errorf("Q8_0 to Q4_0 without --allow-requantize: %v", err)
	}
	if err := runner.CheckRequantize(7, q4, true); err != nil {
		t.Errorf("Q8_0 to Q4_0 allowed: %v", err)
	}
	if err := runner.CheckRequantize(1, q4, false); err != nil {
		t.Errorf("F16 to Q4_0: %v", err)
	}
}
