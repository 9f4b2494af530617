package synth

import "fmt"

// plan is everything Write needs to know before the first byte: the file is
// laid out completely up front, so its size and every offset are exact.
type plan struct {
	spec    Spec // with defaults
	vocab   *vocab
	tensors []TensorInfo
	header  []byte
	size    int64
}

func newPlan(s Spec) (*plan, error) {
	s = s.withDefaults()
	if err := s.validate(); err != nil {
		return nil, fmt.Errorf("synth spec: %w", err)
	}
	v, err := buildVocab(s)
	if err != nil {
		return nil, fmt.Errorf("synth vocabulary: %w", err)
	}
	ts, err := tensorPlan(s, len(v.tokens))
	if err != nil {
		return nil, fmt.Errorf("synth tensors: %w", err)
	}
	h, err := encodeHeader(metadata(s, v), ts)
	if err != nil {
		return nil, fmt.Errorf("synth header: %w", err)
	}
	size := int64(len(h))
	if n := len(ts); n > 0 {
		size += ts[n-1].Offset + pad(ts[n-1].Size)
	}
	return &plan{spec: s, vocab: v, tensors: ts, header: h, size: size}, nil
}

// FileSize is the exact number of bytes Write produces for s, for a disk-space
// check before writing.
func FileSize(s Spec) (int64, error) {
	p, err := newPlan(s)
	if err != nil {
		return 0, err
	}
	return p.size, nil
}

// NeedsQuantizer reports whether writing s calls a Quantizer, i.e. whether
// any tensor gets a quantized type.
func NeedsQuantizer(s Spec) (bool, error) {
	p, err := newPlan(s)
	if err != nil {
		return false, err
	}
	return p.needsQuantizer(), nil
}

func (p *plan) needsQuantizer() bool {
	for _, t := range p.tensors {
		if t.Type.IsQuantized() {
			return true
		}
	}
	return false
}
