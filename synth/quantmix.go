package synth

import (
	"fmt"
	"strings"
)

// assignTypes sets each tensor's type as converting to F16 (convert_hf_to_gguf)
// and then running llama-quantize with s.FileType would. ts must be in file
// order: llama.cpp counts attn_v and ffn_down tensors in that order.
func assignTypes(s Spec, ts []TensorInfo) error {
	def, err := s.FileType.DefaultType()
	if err != nil {
		return err
	}
	mix := newQuantMix(s, ts)
	for i := range ts {
		t := &ts[i]
		if !quantizable(t) {
			// The converter keeps 1-D tensors and the MoE router in F32.
			t.Type = TypeF32
			continue
		}
		if !def.IsQuantized() || s.Pure {
			t.Type = def
		} else {
			t.Type = mix.tensorType(t.Name, t.Shape[0], def)
		}
		if t.Shape[0]%int64(t.Type.BlockSize()) != 0 {
			return fmt.Errorf("tensor %s: row length %d is not a multiple of %s's block size %d",
				t.Name, t.Shape[0], t.Type, t.Type.BlockSize())
		}
	}
	return nil
}

// quantizable mirrors llama_model_quantize_impl's test of which tensors get the
// file type's types: 2-D or larger weights that are not norms or the router.
func quantizable(t *TensorInfo) bool {
	return strings.HasSuffix(t.Name, "weight") && len(t.Shape) >= 2 &&
		!strings.Contains(t.Name, "_norm.weight") && !strings.Contains(t.Name, "ffn_gate_inp.weight")
}

// quantMix is llama-quant.cpp's quantize_state_impl: the counters its
// per-tensor type choice depends on.
type quantMix struct {
	ftype     FileType
	arch      string
	nLayer    int
	nExpert   int
	nGQA      int
	is70B     bool
	hasOutput bool

	nAttnWV, iAttnWV int
	iFFNDown         int
}

func newQuantMix(s Spec, ts []TensorInfo) *quantMix {
	m := &quantMix{
		ftype: s.FileType, arch: s.Arch, nLayer: s.NLayer, nExpert: s.NExpert,
		nGQA: s.NHead / s.NHeadKV,
	}
	// llama.cpp calls these 70B from the layer count (load_hparams).
	switch s.Arch {
	case ArchLlama:
		m.is70B = s.NExpert != 8 && s.NLayer == 80 && s.NHead != s.NHeadKV
	case ArchQwen2, ArchOLMo:
		m.is70B = s.NLayer == 80
	}
	for _, t := range ts {
		switch {
		case strings.Contains(t.Name, "attn_v.weight"), strings.Contains(t.Name, "attn_qkv.weight"):
			m.nAttnWV++
		case t.Name == "output.weight":
			m.hasOutput = true
		}
	}
	return m
}

// useMoreBits is llama-quant.cpp's choice of layers that get a bigger type in
// the _M mixes: the first and last eighth, and every third one between.
func useMoreBits(i, n int) bool { return i < n/8 || i >= 7*n/8 || (i-n/8)%3 == 2 }

// tensorType is llama_tensor_get_type for the file types this package supports
// (no IQ mixes, no importance matrix). ne0 is the tensor's row length.
func (m *quantMix) tensorType(name string, ne0 int64, def GGMLType) GGMLType {
	ft, falcon := m.ftype, m.arch == ArchFalcon
	t := def
	// Mixtral's experts are one tensor per layer, so llama.cpp reads the layer
	// from the name there and counts tensors otherwise.
	layer := func(counter int) int {
		if m.nExpert > 1 {
			if b := blockOf(name); b >= 0 {
				return b
			}
		}
		return counter
	}
	switch {
	case name == "output.weight" || (!m.hasOutput && name == "token_embd.weight"):
		if falcon || ne0%int64(def.BlockSize()) != 0 {
			t = TypeQ8_0
		} else if t != TypeQ8_0 {
			t = TypeQ6_K
		}
	case name == "token_embd.weight":
		// keeps the default type for the supported mixes
	case strings.Contains(name, "attn_v.weight"):
		switch {
		case ft == FileTypeQ2_K:
			t = pick(m.nGQA >= 4, TypeQ4_K, TypeQ3_K)
		case ft == FileTypeQ3_K_M:
			t = pick(m.iAttnWV < 2, TypeQ5_K, TypeQ4_K)
		case ft == FileTypeQ3_K_L:
			t = TypeQ5_K
		case (ft == FileTypeQ4_K_M || ft == FileTypeQ5_K_M) && useMoreBits(m.iAttnWV, m.nAttnWV):
			t = TypeQ6_K
		case ft == FileTypeQ4_K_S && m.iAttnWV < 4:
			t = TypeQ5_K
		}
		if m.is70B && (t == TypeQ3_K || t == TypeQ4_K) {
			t = TypeQ5_K
		}
		if m.nExpert == 8 {
			t = TypeQ8_0
		}
		m.iAttnWV++
	case strings.Contains(name, "attn_k.weight"):
		if m.nExpert == 8 {
			t = TypeQ8_0
		}
	case strings.Contains(name, "attn_q.weight"):
	case strings.Contains(name, "ffn_down"):
		i, n := layer(m.iFFNDown), m.nLayer
		switch {
		case ft == FileTypeQ2_K:
			t = TypeQ3_K
		case ft == FileTypeQ3_K_M:
			switch {
			case i < n/16:
				t = TypeQ5_K
			case !falcon || useMoreBits(i, n):
				t = TypeQ4_K
			default:
				t = TypeQ3_K
			}
		case ft == FileTypeQ3_K_L:
			t = pick(falcon, TypeQ4_K, TypeQ5_K)
		case ft == FileTypeQ4_K_M:
			switch {
			case falcon && i < n/16:
				t = TypeQ6_K
			case falcon:
				t = pick(useMoreBits(i, n), TypeQ5_K, TypeQ4_K)
			case useMoreBits(i, n):
				t = TypeQ6_K
			}
		case ft == FileTypeQ5_K_M && useMoreBits(i, n):
			t = TypeQ6_K
		case ft == FileTypeQ4_K_S && !falcon && i < n/8:
			t = TypeQ5_K
		}
		m.iFFNDown++
	case strings.Contains(name, "attn_output.weight"):
		switch {
		case falcon:
			if ft == FileTypeQ3_K_L {
				t = TypeQ4_K
			}
		case m.nExpert == 8:
			switch ft {
			case FileTypeQ2_K, FileTypeQ3_K_S, FileTypeQ3_K_M, FileTypeQ4_K_S, FileTypeQ4_K_M:
				t = TypeQ5_K
			}
		default:
			switch ft {
			case FileTypeQ2_K:
				t = TypeQ3_K
			case FileTypeQ3_K_M:
				t = TypeQ4_K
			case FileTypeQ3_K_L:
				t = TypeQ5_K
			}
		}
	case strings.Contains(name, "attn_qkv.weight"):
		switch ft {
		case FileTypeQ3_K_M, FileTypeQ3_K_L:
			t = TypeQ4_K
		case FileTypeQ4_K_M:
			t = TypeQ5_K
		case FileTypeQ5_K_M:
			t = TypeQ6_K
		}
	}
	return fallbackType(t, ne0)
}

// fallbackType replaces a type whose block does not divide the row length, as
// llama-quant.cpp's convert_incompatible_tensor does (e.g. Falcon-7B's 4544).
func fallbackType(t GGMLType, ne0 int64) GGMLType {
	if ne0%int64(t.BlockSize()) == 0 {
		return t
	}
	switch t {
	case TypeQ2_K, TypeQ3_K, TypeIQ4_XS:
		t = TypeIQ4_NL
	case TypeQ4_K:
		t = TypeQ5_0
	case TypeQ5_K:
		t = TypeQ5_1
	case TypeQ6_K:
		t = TypeQ8_0
	default:
		return t // llama.cpp gives up; assignTypes reports it
	}
	if ne0%int64(t.BlockSize()) != 0 {
		return TypeF16
	}
	return t
}

func pick[T any](cond bool, a, b T) T {
	if cond {
		return a
	}
	return b
}
