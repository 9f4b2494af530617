package synth_test

import (
	"math"
	"strings"
	"testing"

	"github.com/olm-dev/olm/synth"
)

// Sizes of real GGUF builds (shared/catalog-facts.md). Each was made by some
// 2023 llama.cpp; tokenizer metadata (merges) differs, tensors should not.
var realSizes = []struct {
	family string
	ft     synth.FileType
	bytes  int64
}{
	{"llama2-7b", synth.FileTypeQ4_K_M, 4081004224},
	{"llama2-7b", synth.FileTypeQ5_K_M, 4783156928},
	{"llama2-7b", synth.FileTypeQ8_0, 7161089728},
	{"llama2-7b", synth.FileTypeQ4_0, 3825807040},
	{"llama2-13b", synth.FileTypeQ4_K_M, 7865956224},
	{"llama2-13b", synth.FileTypeQ4_0, 7365834624},
	{"mistral-7b", synth.FileTypeQ4_K_M, 4368438912},
	{"mistral-7b", synth.FileTypeQ4_0, 4108916352},
	{"mixtral-8x7b", synth.FileTypeQ4_0, 26441533376},
	{"falcon-7b", synth.FileTypeQ4_K_M, 4975385792},
	{"falcon-7b", synth.FileTypeQ5_K_M, 5731380160},
	{"falcon-40b", synth.FileTypeQ4_K_M, 25452583008},
	{"tinyllama-1.1b", synth.FileTypeQ4_K_M, 668788096},
	{"llama2-70b", synth.FileTypeQ4_0, 38872249248},
	{"olmo2-7b", synth.FileTypeQ4_K_M, 4472020256},
	{"smollm2-360m", synth.FileTypeQ4_K_M, 270590880},
}

func TestRealShapeSizes(t *testing.T) {
	for _, c := range realSizes {
		s, ok := synth.Shape(c.family)
		if !ok {
			t.Fatalf("no shape %s", c.family)
		}
		s.FileType = c.ft
		got, err := synth.FileSize(s)
		if err != nil {
			t.Fatalf("%s %s: %v", c.family, c.ft, err)
		}
		// Measured: within 0.15% (Falcon-40B's real file has one Q5_K
		// ffn_down fewer; the rest is tokenizer merges, which synth does not
		// write: up to 1 MiB, e.g. SmolLM2's 49k merges and chat template).
		diff := math.Abs(float64(got-c.bytes)) / float64(c.bytes)
		if diff > 0.002 && math.Abs(float64(got-c.bytes)) > 1<<20 {
			t.Errorf("%s %s: %d bytes, real file %d (%.3f%%)", c.family, c.ft, got, c.bytes, 100*diff)
		}
	}
}

func TestRealShapeParams(t *testing.T) {
	for family, want := range map[string]int64{
		"tinyllama-1.1b": 1_100_048_384, // llama.cpp: 1.10 B
		"llama2-7b":      6_738_415_616,
		"llama2-13b":     13_015_864_320,
		"mistral-7b":     7_241_732_096,
		"mixtral-8x7b":   46_702_792_704,
	} {
		s, _ := synth.Shape(family)
		ts, err := synth.Tensors(s)
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		for _, ti := range ts {
			n += ti.Elements()
		}
		if n != want {
			t.Errorf("%s: %d parameters, want %d", family, n, want)
		}
	}
}

func TestShapeVocabAndF16(t *testing.T) {
	for _, fam := range synth.ShapeNames() {
		s, _ := synth.Shape(fam)
		ts, err := synth.Tensors(s)
		if err != nil {
			t.Fatalf("%s: %v", fam, err)
		}
		for _, ti := range ts {
			if ti.Name == "token_embd.weight" && ti.Shape[1] != int64(s.NVocab) {
				t.Errorf("%s: token_embd %v, vocab %d", fam, ti.Shape, s.NVocab)
			}
			want := synth.TypeF16
			if len(ti.Shape) == 1 || strings.HasSuffix(ti.Name, "ffn_gate_inp.weight") {
				want = synth.TypeF32
			}
			if ti.Type != want {
				t.Errorf("%s %s: %v in an F16 file", fam, ti.Name, ti.Type)
			}
		}
	}
}

// typesOf maps tensor names to types for a family under a file type.
func typesOf(t *testing.T, family string, ft synth.FileType) map[string]synth.GGMLType {
	t.Helper()
	s, _ := synth.Shape(family)
	s.FileType = ft
	ts, err := synth.Tensors(s)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]synth.GGMLType{}
	for _, ti := range ts {
		m[ti.Name] = ti.Type
	}
	return m
}

func TestQ4KMMixes(t *testing.T) {
	m := typesOf(t, "mistral-7b", synth.FileTypeQ4_K_M)
	n6 := 0
	for name, typ := range m {
		if typ == synth.TypeQ6_K {
			n6++
		} else if typ != synth.TypeQ4_K && typ != synth.TypeF32 {
			t.Errorf("%s: %v", name, typ)
		}
	}
	// output + 16 attn_v + 16 ffn_down (use_more_bits of 32 layers).
	if n6 != 33 || m["output.weight"] != synth.TypeQ6_K || m["blk.0.attn_v.weight"] != synth.TypeQ6_K || m["blk.4.attn_v.weight"] != synth.TypeQ4_K {
		t.Errorf("Mistral Q4_K_M: %d Q6_K tensors, want 33", n6)
	}

	// Falcon-7B's rows of 4544 are no multiple of 256: K types fall back.
	f := typesOf(t, "falcon-7b", synth.FileTypeQ4_K_M)
	for name, want := range map[string]synth.GGMLType{
		"output.weight":         synth.TypeQ8_0,
		"token_embd.weight":     synth.TypeQ5_0,
		"blk.0.attn_qkv.weight": synth.TypeQ5_1,
		"blk.0.ffn_down.weight": synth.TypeQ6_K,
		"blk.2.ffn_down.weight": synth.TypeQ5_K,
		"blk.4.ffn_down.weight": synth.TypeQ4_K,
		"blk.6.ffn_down.weight": synth.TypeQ5_K,
		"blk.0.ffn_up.weight":   synth.TypeQ5_0,
	} {
		if f[name] != want {
			t.Errorf("Falcon-7B Q4_K_M %s: %v, want %v", name, f[name], want)
		}
	}

	x := typesOf(t, "mixtral-8x7b", synth.FileTypeQ4_K_M)
	for name, want := range map[string]synth.GGMLType{
		"blk.0.attn_v.weight":         synth.TypeQ8_0,
		"blk.0.attn_k.weight":         synth.TypeQ8_0,
		"blk.0.attn_output.weight":    synth.TypeQ5_K,
		"blk.0.ffn_down_exps.weight":  synth.TypeQ6_K,
		"blk.5.ffn_down_exps.weight":  synth.TypeQ4_K,
		"blk.0.ffn_gate_inp.weight":   synth.TypeF32,
		"blk.31.ffn_down_exps.weight": synth.TypeQ6_K,
	} {
		if x[name] != want {
			t.Errorf("Mixtral Q4_K_M %s: %v, want %v", name, x[name], want)
		}
	}
}

func TestFileTypeNames(t *testing.T) {
	for _, name := range []string{"F32", "f16", "Q4_0", "q4_k_m", "Q5_K_M", "Q8_0", "Q6_K", "BF16"} {
		ft, err := synth.ParseFileType(name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if _, err := ft.DefaultType(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if ft, _ := synth.ParseFileType("Q4_K_M"); ft != 15 {
		t.Errorf("Q4_K_M is %d, want llama.cpp's 15", ft)
	}
	if _, err := synth.ParseFileType("Q4_K_X"); err == nil {
		t.Errorf("unknown name accepted")
	}
	for typ, want := range map[synth.GGMLType][2]int{
		synth.TypeQ4_0: {32, 18}, synth.TypeQ8_0: {32, 34}, synth.TypeQ4_K: {256, 144},
		synth.TypeQ5_K: {256, 176}, synth.TypeQ6_K: {256, 210}, synth.TypeQ2_K: {256, 84},
		synth.TypeQ3_K: {256, 110}, synth.TypeF16: {1, 2}, synth.TypeIQ4_NL: {32, 18},
	} {
		if typ.BlockSize() != want[0] || typ.BlockBytes() != want[1] {
			t.Errorf("%v: block %d bytes %d, want %v", typ, typ.BlockSize(), typ.BlockBytes(), want)
		}
	}
}

func TestTiedEmbeddings(t *testing.T) {
	s, _ := synth.Shape("llama2-7b")
	s.FileType, s.TiedEmbeddings = synth.FileTypeQ4_K_M, true
	ts, err := synth.Tensors(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, ti := range ts {
		if ti.Name == "output.weight" {
			t.Errorf("tied model has output.weight")
		}
		// llama.cpp quantizes a shared embedding like the output tensor.
		if ti.Name == "token_embd.weight" && ti.Type != synth.TypeQ6_K {
			t.Errorf("tied token_embd is %v, want q6_K", ti.Type)
		}
	}
}
