package synth_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	gguf "github.com/gpustack/gguf-parser-go"

	"github.com/olm-dev/olm/synth"
)

var tinyNames = []string{"llama", "mixtral", "falcon", "falcon-40b", "olmo", "olmo2", "qwen2"}

// writeTiny writes a tiny model and parses it back.
func writeTiny(t *testing.T, s synth.Spec, q synth.Quantizer) (string, *gguf.GGUFFile) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "m.gguf")
	if err := synth.Write(context.Background(), path, s, q); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.ParseGGUFFile(path)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	return path, f
}

func metaU32(t *testing.T, f *gguf.GGUFFile, key string) uint32 {
	t.Helper()
	kv, ok := f.Header.MetadataKV.Get(key)
	if !ok {
		t.Fatalf("missing metadata %s", key)
	}
	return kv.ValueUint32()
}

func metaString(t *testing.T, f *gguf.GGUFFile, key string) string {
	t.Helper()
	kv, ok := f.Header.MetadataKV.Get(key)
	if !ok {
		t.Fatalf("missing metadata %s", key)
	}
	return kv.ValueString()
}

// archTensors are tensors of block 0 each tiny model must (or must not) have,
// from llama.cpp's load_tensors.
var archTensors = map[string]struct{ has, hasNot []string }{
	"llama":      {[]string{"attn_norm.weight", "attn_q.weight", "ffn_gate.weight", "ffn_norm.weight"}, []string{"ffn_gate_exps.weight", "attn_q.bias"}},
	"mixtral":    {[]string{"ffn_gate_inp.weight", "ffn_gate_exps.weight", "ffn_down_exps.weight", "ffn_up_exps.weight"}, []string{"ffn_gate.weight"}},
	"falcon":     {[]string{"attn_norm.weight", "attn_norm.bias", "attn_qkv.weight", "ffn_up.weight"}, []string{"attn_norm_2.weight", "ffn_gate.weight"}},
	"falcon-40b": {[]string{"attn_norm_2.weight", "attn_norm_2.bias", "attn_qkv.weight"}, nil},
	"olmo":       {[]string{"attn_q.weight", "ffn_gate.weight"}, []string{"attn_norm.weight", "ffn_norm.weight"}},
	"olmo2":      {[]string{"attn_q_norm.weight", "attn_k_norm.weight", "post_attention_norm.weight", "post_ffw_norm.weight"}, []string{"attn_norm.weight"}},
	"qwen2":      {[]string{"attn_q.bias", "attn_k.bias", "attn_v.bias", "attn_norm.weight"}, nil},
}

func TestTinyModelsRoundTrip(t *testing.T) {
	for _, name := range tinyNames {
		t.Run(name, func(t *testing.T) {
			s, err := synth.Tiny(name)
			if err != nil {
				t.Fatal(err)
			}
			s.ChatTemplate = "{{ bos_token }}"
			path, f := writeTiny(t, s, nil)

			want, err := synth.Tensors(s)
			if err != nil {
				t.Fatal(err)
			}
			if len(f.TensorInfos) != len(want) {
				t.Fatalf("%d tensors, want %d", len(f.TensorInfos), len(want))
			}
			names := map[string]bool{}
			for i, ti := range f.TensorInfos {
				w := want[i]
				names[ti.Name] = true
				shape := make([]int64, len(ti.Dimensions))
				for j, d := range ti.Dimensions {
					shape[j] = int64(d)
				}
				if ti.Name != w.Name || !slices.Equal(shape, w.Shape) || uint32(ti.Type) != uint32(w.Type) || int64(ti.Offset) != w.Offset {
					t.Errorf("tensor %d: %s %v %v @%d, want %s %v %v @%d", i, ti.Name, shape, ti.Type, ti.Offset, w.Name, w.Shape, w.Type, w.Offset)
				}
				if ti.Offset%synth.Alignment != 0 {
					t.Errorf("%s: offset %d not aligned", ti.Name, ti.Offset)
				}
			}
			for _, n := range archTensors[name].has {
				if !names["blk.0."+n] || !names["blk.1."+n] {
					t.Errorf("missing blk.*.%s", n)
				}
			}
			for _, n := range archTensors[name].hasNot {
				if names["blk.0."+n] {
					t.Errorf("unexpected blk.0.%s", n)
				}
			}
			if !names["token_embd.weight"] || !names["output.weight"] {
				t.Errorf("missing token_embd or output")
			}

			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			size, err := synth.FileSize(s)
			if err != nil {
				t.Fatal(err)
			}
			if st.Size() != size {
				t.Errorf("file is %d bytes, FileSize says %d", st.Size(), size)
			}
			if st.Size() > 4<<20 {
				t.Errorf("tiny model is %d bytes", st.Size())
			}
			if int64(f.Size) != st.Size() {
				t.Errorf("parser size %d, file %d", f.Size, st.Size())
			}

			if f.Header.Version != gguf.GGUFVersionV3 {
				t.Errorf("version %v", f.Header.Version)
			}
			if got := metaString(t, f, "general.architecture"); got != s.Arch {
				t.Errorf("architecture %q, want %q", got, s.Arch)
			}
			a := s.Arch + "."
			for key, v := range map[string]int{
				a + "embedding_length": s.NEmbd, a + "block_count": s.NLayer, a + "attention.head_count": s.NHead,
				a + "attention.head_count_kv": s.NHeadKV, a + "feed_forward_length": s.NFF, a + "context_length": s.NCtx,
				"general.alignment": synth.Alignment, "general.file_type": int(synth.FileTypeF32),
			} {
				if got := metaU32(t, f, key); int(got) != v {
					t.Errorf("%s = %d, want %d", key, got, v)
				}
			}
			if s.NExpert > 0 {
				if metaU32(t, f, a+"expert_count") != uint32(s.NExpert) || metaU32(t, f, a+"expert_used_count") != uint32(s.NExpertUsed) {
					t.Errorf("expert counts wrong")
				}
			}
			wantModel := "gpt2"
			if s.Arch == synth.ArchLlama {
				wantModel = "llama"
			}
			if got := metaString(t, f, "tokenizer.ggml.model"); got != wantModel {
				t.Errorf("tokenizer model %q, want %q", got, wantModel)
			}
			if got := metaString(t, f, "tokenizer.chat_template"); got != s.ChatTemplate {
				t.Errorf("chat template %q", got)
			}
			kv, _ := f.Header.MetadataKV.Get("tokenizer.ggml.tokens")
			nTok := kv.ValueArray().Len
			var embd gguf.GGUFTensorInfo
			for _, ti := range f.TensorInfos {
				if ti.Name == "token_embd.weight" {
					embd = ti
				}
			}
			if embd.Dimensions[1] != nTok {
				t.Errorf("token_embd has %d rows, vocabulary %d tokens", embd.Dimensions[1], nTok)
			}
		})
	}
}

// readF32 reads an F32 tensor's values back from the file.
func readF32(t *testing.T, path string, f *gguf.GGUFFile, name string) []float32 {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, ti := range f.TensorInfos {
		if ti.Name != name {
			continue
		}
		if ti.Type != gguf.GGMLTypeF32 {
			t.Fatalf("%s is %v", name, ti.Type)
		}
		n := 1
		for _, d := range ti.Dimensions {
			n *= int(d)
		}
		off := f.TensorDataStartOffset + int64(ti.Offset)
		out := make([]float32, n)
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[off+int64(4*i):]))
		}
		return out
	}
	t.Fatalf("no tensor %s", name)
	return nil
}

func TestWeightValues(t *testing.T) {
	s, _ := synth.Tiny("llama")
	path, f := writeTiny(t, s, nil)
	for _, v := range readF32(t, path, f, "blk.0.attn_norm.weight") {
		if v != 1 {
			t.Fatalf("norm weight %v, want 1", v)
		}
	}
	w := readF32(t, path, f, "blk.1.ffn_down.weight")
	var sum, sq float64
	for _, v := range w {
		sum += float64(v)
		sq += float64(v) * float64(v)
	}
	mean, std := sum/float64(len(w)), math.Sqrt(sq/float64(len(w)))
	if math.Abs(mean) > 0.002 || math.Abs(std-0.02) > 0.002 {
		t.Errorf("weights mean %v std %v, want about 0 and 0.02", mean, std)
	}
	// Tensors must not share their random stream.
	if other := readF32(t, path, f, "blk.0.ffn_down.weight"); slices.Equal(other, w) {
		t.Errorf("two tensors hold the same values")
	}
}

func TestDeterministicAndSeeded(t *testing.T) {
	s, _ := synth.Tiny("qwen2")
	read := func(s synth.Spec) []byte {
		path, _ := writeTiny(t, s, nil)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, b := read(s), read(s)
	if !bytes.Equal(a, b) {
		t.Errorf("same spec gave different files")
	}
	s.Seed++
	if c := read(s); bytes.Equal(a, c) || len(a) != len(c) {
		t.Errorf("another seed should change the weights, not the size")
	}
}

func TestF16MatchesF32(t *testing.T) {
	s, _ := synth.Tiny("llama")
	p32, f32 := writeTiny(t, s, nil)
	s.FileType = synth.FileTypeF16
	p16, f16 := writeTiny(t, s, nil)
	want := readF32(t, p32, f32, "blk.0.attn_q.weight")
	data, err := os.ReadFile(p16)
	if err != nil {
		t.Fatal(err)
	}
	for _, ti := range f16.TensorInfos {
		if ti.Name != "blk.0.attn_q.weight" {
			continue
		}
		if ti.Type != gguf.GGMLTypeF16 {
			t.Fatalf("type %v, want F16", ti.Type)
		}
		off := f16.TensorDataStartOffset + int64(ti.Offset)
		for i, w := range want {
			h := binary.LittleEndian.Uint16(data[off+int64(2*i):])
			got := halfToFloat(h)
			if math.Abs(float64(got-w)) > 1e-3*math.Abs(float64(w))+1e-7 {
				t.Fatalf("value %d: f16 %v, f32 %v", i, got, w)
			}
		}
		return
	}
	t.Fatal("no blk.0.attn_q.weight")
}

// halfToFloat decodes IEEE half precision (normal and subnormal numbers).
func halfToFloat(h uint16) float32 {
	sign := float32(1)
	if h&0x8000 != 0 {
		sign = -1
	}
	e, m := int(h>>10)&0x1f, float64(h&0x3ff)
	if e == 0 {
		return sign * float32(m*math.Pow(2, -24))
	}
	return sign * float32((1+m/1024)*math.Pow(2, float64(e-15)))
}

// fakeQuantizer returns correctly sized rows of a marker byte and records the
// rows it was asked for, per type.
type fakeQuantizer struct {
	mu   sync.Mutex
	rows map[synth.GGMLType]int
}

func (fq *fakeQuantizer) quantize(typ synth.GGMLType, src []float32, nrows, ncols int) ([]byte, error) {
	if len(src) != nrows*ncols {
		return nil, errors.New("src length does not match rows*cols")
	}
	rs, err := typ.RowSize(ncols)
	if err != nil {
		return nil, err
	}
	fq.mu.Lock()
	fq.rows[typ] += nrows
	fq.mu.Unlock()
	return bytes.Repeat([]byte{byte(typ)}, int(rs)*nrows), nil
}

func TestQuantizedMix(t *testing.T) {
	s, _ := synth.Tiny("llama")
	s.NEmbd, s.NFF, s.NLayer = 256, 512, 8 // rows divisible by QK_K
	s.FileType = synth.FileTypeQ4_K_M
	fq := &fakeQuantizer{rows: map[synth.GGMLType]int{}}
	path, f := writeTiny(t, s, fq.quantize)

	types := map[string]gguf.GGMLType{}
	for _, ti := range f.TensorInfos {
		types[ti.Name] = ti.Type
	}
	// llama-quant.cpp's Q4_K_M: output Q6_K, attn_v and ffn_down Q6_K in the
	// layers use_more_bits picks (0, 7 and (i-1)%3 == 2 for 8 layers: 0, 3, 6, 7).
	check := func(name string, want gguf.GGMLType) {
		t.Helper()
		if types[name] != want {
			t.Errorf("%s is %v, want %v", name, types[name], want)
		}
	}
	check("output.weight", gguf.GGMLTypeQ6_K)
	check("token_embd.weight", gguf.GGMLTypeQ4_K)
	check("output_norm.weight", gguf.GGMLTypeF32)
	for i, more := range []bool{true, false, false, true, false, false, true, true} {
		want := gguf.GGMLTypeQ4_K
		if more {
			want = gguf.GGMLTypeQ6_K
		}
		b := "blk." + string(rune('0'+i)) + "."
		check(b+"attn_v.weight", want)
		check(b+"ffn_down.weight", want)
		check(b+"attn_q.weight", gguf.GGMLTypeQ4_K)
		check(b+"attn_norm.weight", gguf.GGMLTypeF32)
	}
	if got := metaU32(t, f, "general.file_type"); got != uint32(synth.FileTypeQ4_K_M) {
		t.Errorf("file_type %d", got)
	}

	// Every row of every quantized tensor went through the quantizer once,
	// and its bytes landed at the tensor's offset.
	want := map[synth.GGMLType]int{}
	ts, _ := synth.Tensors(s)
	for _, ti := range ts {
		if ti.Type.IsQuantized() {
			want[ti.Type] += int(ti.Rows())
		}
	}
	for typ, n := range want {
		if fq.rows[typ] != n {
			t.Errorf("%v: quantized %d rows, want %d", typ, fq.rows[typ], n)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, ti := range ts {
		if !ti.Type.IsQuantized() {
			continue
		}
		off := f.TensorDataStartOffset + ti.Offset
		seg := data[off : off+ti.Size]
		if bytes.Count(seg, []byte{byte(ti.Type)}) != len(seg) {
			t.Errorf("%s: data is not its quantizer output", ti.Name)
		}
	}
	if size, _ := synth.FileSize(s); size != int64(len(data)) {
		t.Errorf("FileSize %d, file %d", size, len(data))
	}
}

func TestQuantizerErrors(t *testing.T) {
	s, _ := synth.Tiny("llama")
	s.FileType = synth.FileTypeQ8_0
	dir := t.TempDir()
	path := filepath.Join(dir, "m.gguf")
	if err := synth.Write(context.Background(), path, s, nil); err == nil || !strings.Contains(err.Error(), "Quantizer") {
		t.Errorf("nil quantizer: %v", err)
	}
	boom := errors.New("boom")
	bad := func(synth.GGMLType, []float32, int, int) ([]byte, error) { return nil, boom }
	if err := synth.Write(context.Background(), path, s, bad); !errors.Is(err, boom) {
		t.Errorf("failing quantizer: %v", err)
	}
	short := func(synth.GGMLType, []float32, int, int) ([]byte, error) { return []byte{1}, nil }
	if err := synth.Write(context.Background(), path, s, short); err == nil {
		t.Errorf("short quantizer output accepted")
	}
	assertEmptyDir(t, dir)
}

func TestWriteCanceled(t *testing.T) {
	s, _ := synth.Tiny("llama")
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := synth.Write(ctx, filepath.Join(dir, "m.gguf"), s, nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("canceled write: %v", err)
	}
	assertEmptyDir(t, dir)
}

// assertEmptyDir checks that a failed Write left neither the file nor its temporary.
func assertEmptyDir(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		t.Errorf("left behind: %s", e.Name())
	}
}

func TestInvalidSpecs(t *testing.T) {
	base, _ := synth.Tiny("llama")
	for name, mod := range map[string]func(*synth.Spec){
		"arch":        func(s *synth.Spec) { s.Arch = "gpt-j" },
		"heads":       func(s *synth.Spec) { s.NHead = 3 },
		"kv heads":    func(s *synth.Spec) { s.NHeadKV = 3 },
		"layers":      func(s *synth.Spec) { s.NLayer = 0 },
		"experts":     func(s *synth.Spec) { s.NExpert, s.NExpertUsed = 4, 5 },
		"vocab":       func(s *synth.Spec) { s.NVocab = 10 },
		"file type":   func(s *synth.Spec) { s.FileType = 99 },
		"block size":  func(s *synth.Spec) { s.FileType = synth.FileTypeQ4_0; s.NEmbd, s.NHead, s.NHeadKV = 48, 4, 2 },
		"falcon norm": func(s *synth.Spec) { s.FalconNorm2 = true },
	} {
		s := base
		mod(&s)
		if _, err := synth.FileSize(s); err == nil {
			t.Errorf("%s: invalid spec accepted", name)
		}
	}
	if _, err := synth.Tiny("gpt-j"); err == nil {
		t.Errorf("Tiny accepted an unknown name")
	}
	if _, ok := synth.Shape("llama3-8b"); ok {
		t.Errorf("Shape accepted an unknown family")
	}
}
