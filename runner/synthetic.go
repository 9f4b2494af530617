package runner

import (
	"context"

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
