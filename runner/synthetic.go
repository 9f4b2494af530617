package runner

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/olm-dev/olm/synth"
)

// WriteSynthetic writes a random-weight model of spec's shapes and file type, quantizing
// each tensor's rows with ggml as they are written, so no full-precision temporary exists.
func WriteSynthetic(ctx context.Context, path string, spec synth.Spec) error {
	initBackend()
	return synth.Write(ctx, path, spec, func(t synth.GGMLType, src []float32, nrows, ncols int) ([]byte, error) {
		return QuantizeRows(uint32(t), src, nrows, ncols)
	})
}

// BenchModel is the model olm's Go benchmarks run: $OLM_BENCH_MODEL when set, else a
// TinyLlama-1.1B-shaped random-weight model of file type ft, written once into the user
// cache (about 600 MB, minutes on 2 cores; logf hears when that happens).
func BenchModel(ctx context.Context, ft synth.FileType, logf func(format string, args ...any)) (string, error) {
	if p := os.Getenv("OLM_BENCH_MODEL"); p != "" {
		return p, nil
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	path := filepath.Join(dir, "olm", "bench", "tinyllama-1.1b-"+strings.ToLower(ft.String())+".gguf")
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	spec, ok := synth.Shape("tinyllama-1.1b")
	if !ok {
		return "", errors.New("no tinyllama-1.1b shape in synth")
	}
	spec.FileType = ft
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	logf("writing %s (once)", path)
	return path, WriteSynthetic(ctx, path, spec)
}
