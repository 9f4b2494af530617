package synth

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// TensorInfo describes one tensor of the file Write produces.
type TensorInfo struct {
	Name   string
	Shape  []int64 // ggml order: Shape[0] is the row length (ne0)
	Type   GGMLType
	Offset int64 // from the start of the data section; aligned to Alignment
	Size   int64 // bytes of data, without padding

	fill fillKind
}

// fillKind says what values a tensor holds.
type fillKind int

const (
	fillRandom fillKind = iota // normal(0, WeightStd)
	fillOnes                   // norm scales
	fillZeros                  // norm biases
)

// Elements is the number of values in the tensor.
func (t TensorInfo) Elements() int64 {
	n := int64(1)
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Rows is the number of rows of Shape[0] values.
func (t TensorInfo) Rows() int64 { return t.Elements() / t.Shape[0] }

// Tensors lists the tensors Write writes for s, in file order, with their types
// and data offsets.
func Tensors(s Spec) ([]TensorInfo, error) {
	p, err := newPlan(s)
	if err != nil {
		return nil, err
	}
	return slices.Clone(p.tensors), nil
}

// tensorPlan lays out, orders, types and places the tensors of s, whose
// vocabulary has nVocab tokens.
func tensorPlan(s Spec, nVocab int) ([]TensorInfo, error) {
	ts := layout(s, nVocab)
	sortTensors(ts)
	if err := assignTypes(s, ts); err != nil {
		return nil, err
	}
	var off int64
	for i := range ts {
		rs, err := ts[i].Type.RowSize(int(ts[i].Shape[0]))
		if err != nil {
			return nil, fmt.Errorf("tensor %s: %w", ts[i].Name, err)
		}
		ts[i].Offset = off
		ts[i].Size = rs * ts[i].Rows()
		off += pad(ts[i].Size)
	}
	return ts, nil
}

// layout lists each architecture's tensors with the shapes llama.cpp's
// load_tensors (llama-model.cpp) creates, named as in llama-arch.cpp.
func layout(s Spec, nVocab int) []TensorInfo {
	e, v, f := int64(s.NEmbd), int64(nVocab), int64(s.NFF)
	ekv := e / int64(s.NHead) * int64(s.NHeadKV) // n_embd_gqa
	var ts []TensorInfo
	add := func(name string, fill fillKind, shape ...int64) {
		ts = append(ts, TensorInfo{Name: name, Shape: shape, fill: fill})
	}
	norm := func(name string) { add(name+".weight", fillOnes, e) }
	normBias := func(name string) { norm(name); add(name+".bias", fillZeros, e) }
	w := func(name string, shape ...int64) { add(name+".weight", fillRandom, shape...) }

	w("token_embd", e, v)
	if !s.TiedEmbeddings {
		w("output", e, v)
	}
	switch s.Arch {
	case ArchFalcon:
		normBias("output_norm")
	case ArchLlama, ArchOLMo2, ArchQwen2:
		norm("output_norm")
	}
	for i := range s.NLayer {
		b := func(n string) string { return "blk." + strconv.Itoa(i) + "." + n }
		switch s.Arch {
		case ArchLlama:
			norm(b("attn_norm"))
			w(b("attn_q"), e, e)
			w(b("attn_k"), e, ekv)
			w(b("attn_v"), e, ekv)
			w(b("attn_output"), e, e)
			norm(b("ffn_norm"))
			if s.NExpert == 0 {
				w(b("ffn_gate"), e, f)
				w(b("ffn_down"), f, e)
				w(b("ffn_up"), e, f)
			} else {
				x := int64(s.NExpert)
				w(b("ffn_gate_inp"), e, x)
				w(b("ffn_gate_exps"), e, f, x)
				w(b("ffn_down_exps"), f, e, x)
				w(b("ffn_up_exps"), e, f, x)
			}
		case ArchFalcon:
			normBias(b("attn_norm"))
			if s.FalconNorm2 {
				normBias(b("attn_norm_2"))
			}
			w(b("attn_qkv"), e, e+2*ekv)
			w(b("attn_output"), e, e)
			w(b("ffn_up"), e, f)
			w(b("ffn_down"), f, e)
		case ArchOLMo: // OLMo-1 layer norms have no parameters
			w(b("attn_q"), e, e)
			w(b("attn_k"), e, ekv)
			w(b("attn_v"), e, ekv)
			w(b("attn_output"), e, e)
			w(b("ffn_gate"), e, f)
			w(b("ffn_down"), f, e)
			w(b("ffn_up"), e, f)
		case ArchOLMo2:
			w(b("attn_q"), e, e)
			w(b("attn_k"), e, ekv)
			w(b("attn_v"), e, ekv)
			w(b("attn_output"), e, e)
			add(b("attn_q_norm.weight"), fillOnes, e)
			add(b("attn_k_norm.weight"), fillOnes, ekv)
			norm(b("post_attention_norm"))
			w(b("ffn_gate"), e, f)
			w(b("ffn_up"), e, f)
			w(b("ffn_down"), f, e)
			norm(b("post_ffw_norm"))
		case ArchQwen2:
			norm(b("attn_norm"))
			w(b("attn_q"), e, e)
			w(b("attn_k"), e, ekv)
			w(b("attn_v"), e, ekv)
			w(b("attn_output"), e, e)
			add(b("attn_q.bias"), fillRandom, e)
			add(b("attn_k.bias"), fillRandom, ekv)
			add(b("attn_v.bias"), fillRandom, ekv)
			norm(b("ffn_norm"))
			w(b("ffn_gate"), e, f)
			w(b("ffn_down"), f, e)
			w(b("ffn_up"), e, f)
		}
	}
	return ts
}

// sortTensors orders tensors like llama.cpp's weights_map (weight_name_comparer):
// by block number, non-block tensors first, then by name. llama-quantize
// writes in this order and counts attn_v/ffn_down tensors in it.
func sortTensors(ts []TensorInfo) {
	slices.SortStableFunc(ts, func(a, b TensorInfo) int {
		if c := cmp.Compare(blockOf(a.Name), blockOf(b.Name)); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
}

// blockOf returns N for "blk.N.*" and -1 otherwise.
func blockOf(name string) int {
	rest, ok := strings.CutPrefix(name, "blk.")
	if !ok {
		return -1
	}
	num, _, ok := strings.Cut(rest, ".")
	if !ok {
		return -1
	}
	n, err := strconv.Atoi(num)
	if err != nil {
		return -1
	}
	return n
}

// pad rounds n up to the GGUF alignment.
func pad(n int64) int64 { return (n + Alignment - 1) / Alignment * Alignment }
