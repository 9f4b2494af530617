package runner_test

import (
	"context"
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
