package synth

import "fmt"

// GGMLType is a ggml tensor element type; the values are ggml's enum ggml_type
// and are stored as-is in GGUF tensor infos.
type GGMLType uint32

// ggml_type values (ggml.h). Gaps are types ggml removed.
const (
	TypeF32     GGMLType = 0
	TypeF16     GGMLType = 1
	TypeQ4_0    GGMLType = 2
	TypeQ4_1    GGMLType = 3
	TypeQ5_0    GGMLType = 6
	TypeQ5_1    GGMLType = 7
	TypeQ8_0    GGMLType = 8
	TypeQ8_1    GGMLType = 9
	TypeQ2_K    GGMLType = 10
	TypeQ3_K    GGMLType = 11
	TypeQ4_K    GGMLType = 12
	TypeQ5_K    GGMLType = 13
	TypeQ6_K    GGMLType = 14
	TypeQ8_K    GGMLType = 15
	TypeIQ2_XXS GGMLType = 16
	TypeIQ2_XS  GGMLType = 17
	TypeIQ3_XXS GGMLType = 18
	TypeIQ1_S   GGMLType = 19
	TypeIQ4_NL  GGMLType = 20
	TypeIQ3_S   GGMLType = 21
	TypeIQ2_S   GGMLType = 22
	TypeIQ4_XS  GGMLType = 23
	TypeI8      GGMLType = 24
	TypeI16     GGMLType = 25
	TypeI32     GGMLType = 26
	TypeI64     GGMLType = 27
	TypeF64     GGMLType = 28
	TypeIQ1_M   GGMLType = 29
	TypeBF16    GGMLType = 30
	TypeTQ1_0   GGMLType = 34
	TypeTQ2_0   GGMLType = 35
	TypeMXFP4   GGMLType = 39
)

// qkK is ggml's QK_K, the super-block size of the K-quants and IQ types.
const qkK = 256

// typeTraits mirrors ggml.c's type_traits: elements per block and bytes per
// block (the sizeof of the block structs in ggml-common.h).
type typeTraits struct {
	name  string
	block int
	bytes int
}

// traits is a switch rather than a table so the package holds no mutable state.
func (t GGMLType) traits() (typeTraits, bool) {
	switch t {
	case TypeF32:
		return typeTraits{"f32", 1, 4}, true
	case TypeF16:
		return typeTraits{"f16", 1, 2}, true
	case TypeBF16:
		return typeTraits{"bf16", 1, 2}, true
	case TypeF64:
		return typeTraits{"f64", 1, 8}, true
	case TypeI8:
		return typeTraits{"i8", 1, 1}, true
	case TypeI16:
		return typeTraits{"i16", 1, 2}, true
	case TypeI32:
		return typeTraits{"i32", 1, 4}, true
	case TypeI64:
		return typeTraits{"i64", 1, 8}, true
	case TypeQ4_0:
		return typeTraits{"q4_0", 32, 2 + 16}, true
	case TypeQ4_1:
		return typeTraits{"q4_1", 32, 4 + 16}, true
	case TypeQ5_0:
		return typeTraits{"q5_0", 32, 2 + 4 + 16}, true
	case TypeQ5_1:
		return typeTraits{"q5_1", 32, 4 + 4 + 16}, true
	case TypeQ8_0:
		return typeTraits{"q8_0", 32, 2 + 32}, true
	case TypeQ8_1:
		return typeTraits{"q8_1", 32, 4 + 32}, true
	case TypeQ2_K:
		return typeTraits{"q2_K", qkK, 4 + qkK/16 + qkK/4}, true
	case TypeQ3_K:
		return typeTraits{"q3_K", qkK, 2 + qkK/4 + qkK/8 + 12}, true
	case TypeQ4_K:
		return typeTraits{"q4_K", qkK, 4 + 12 + qkK/2}, true
	case TypeQ5_K:
		return typeTraits{"q5_K", qkK, 4 + 12 + qkK/2 + qkK/8}, true
	case TypeQ6_K:
		return typeTraits{"q6_K", qkK, 2 + qkK/16 + 3*qkK/4}, true
	case TypeQ8_K:
		return typeTraits{"q8_K", qkK, 4 + qkK + qkK/16*2}, true
	case TypeIQ2_XXS:
		return typeTraits{"iq2_xxs", qkK, 2 + qkK/8*2}, true
	case TypeIQ2_XS:
		return typeTraits{"iq2_xs", qkK, 2 + qkK/8*2 + qkK/32}, true
	case TypeIQ2_S:
		return typeTraits{"iq2_s", qkK, 2 + qkK/4 + qkK/16}, true
	case TypeIQ3_XXS:
		return typeTraits{"iq3_xxs", qkK, 2 + 3*(qkK/8)}, true
	case TypeIQ3_S:
		return typeTraits{"iq3_s", qkK, 2 + 13*(qkK/32) + qkK/64}, true
	case TypeIQ1_S:
		return typeTraits{"iq1_s", qkK, 2 + qkK/8 + qkK/16}, true
	case TypeIQ1_M:
		return typeTraits{"iq1_m", qkK, qkK/8 + qkK/16 + qkK/32}, true
	case TypeIQ4_NL:
		return typeTraits{"iq4_nl", 32, 2 + 16}, true
	case TypeIQ4_XS:
		return typeTraits{"iq4_xs", qkK, 2 + 2 + qkK/64 + qkK/2}, true
	case TypeTQ1_0:
		return typeTraits{"tq1_0", qkK, 2 + qkK/64 + (qkK-4*qkK/64)/5}, true
	case TypeTQ2_0:
		return typeTraits{"tq2_0", qkK, 2 + qkK/4}, true
	case TypeMXFP4:
		return typeTraits{"mxfp4", 32, 1 + 16}, true
	}
	return typeTraits{}, false
}

// Valid reports whether t is a type ggml can store in a GGUF file.
func (t GGMLType) Valid() bool { _, ok := t.traits(); return ok }

// String returns ggml's name for the type (ggml_type_name), e.g. "q4_K".
func (t GGMLType) String() string {
	if tr, ok := t.traits(); ok {
		return tr.name
	}
	return fmt.Sprintf("ggml_type(%d)", uint32(t))
}

// BlockSize is the number of elements per block (ggml_blck_size); 0 if unknown.
func (t GGMLType) BlockSize() int { tr, _ := t.traits(); return tr.block }

// BlockBytes is the number of bytes per block (ggml_type_size); 0 if unknown.
func (t GGMLType) BlockBytes() int { tr, _ := t.traits(); return tr.bytes }

// IsQuantized reports whether t packs several elements per block, i.e. whether
// producing it needs a Quantizer.
func (t GGMLType) IsQuantized() bool { return t.BlockSize() > 1 }

// RowSize is the byte size of one row of ncols elements (ggml_row_size). It
// fails when ncols is not a multiple of the block size, which ggml rejects.
func (t GGMLType) RowSize(ncols int) (int64, error) {
	tr, ok := t.traits()
	if !ok {
		return 0, fmt.Errorf("unknown ggml type %d", uint32(t))
	}
	if ncols <= 0 || ncols%tr.block != 0 {
		return 0, fmt.Errorf("%d columns are not a multiple of %s's block size %d", ncols, tr.name, tr.block)
	}
	return int64(ncols/tr.block) * int64(tr.bytes), nil
}
