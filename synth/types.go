package synth

import (
	"fmt"

	"github.com/olm-dev/olm/gguf"
)

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

// typeTraits is ggml's block layout of a type; the table lives in package gguf, which the
// GGUF check reads it from too.
type typeTraits struct {
	name  string
	block int
	bytes int
}

func (t GGMLType) traits() (typeTraits, bool) {
	tr, ok := gguf.Type(t).Traits()
	return typeTraits{tr.Name, tr.BlockSize, tr.BlockBytes}, ok
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
