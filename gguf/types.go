package gguf

import "fmt"

// Type is a ggml tensor element type: the value of ggml's enum ggml_type, stored as-is in a
// GGUF tensor info.
type Type uint32

// Traits is how ggml lays out one block of a type (ggml.c's type_traits).
type Traits struct {
	Name       string // ggml_type_name, e.g. "q4_K"
	BlockSize  int    // elements per block (ggml_blck_size)
	BlockBytes int    // bytes per block (ggml_type_size), the sizeof of ggml-common.h's block struct
}

// qkK is ggml's QK_K, the super-block size of the K-quants and IQ types.
const qkK = 256

// Traits returns the block layout of t in the pinned ggml, and false for a type it cannot
// store in a GGUF file: unknown, or removed (4, 5, 31-33, 36-38), which llama.cpp refuses.
// A switch rather than a table, so the package holds no mutable state.
func (t Type) Traits() (Traits, bool) {
	switch t {
	case 0:
		return Traits{"f32", 1, 4}, true
	case 1:
		return Traits{"f16", 1, 2}, true
	case 2:
		return Traits{"q4_0", 32, 2 + 16}, true
	case 3:
		return Traits{"q4_1", 32, 4 + 16}, true
	case 6:
		return Traits{"q5_0", 32, 2 + 4 + 16}, true
	case 7:
		return Traits{"q5_1", 32, 4 + 4 + 16}, true
	case 8:
		return Traits{"q8_0", 32, 2 + 32}, true
	case 9:
		return Traits{"q8_1", 32, 4 + 32}, true
	case 10:
		return Traits{"q2_K", qkK, 4 + qkK/16 + qkK/4}, true
	case 11:
		return Traits{"q3_K", qkK, 2 + qkK/4 + qkK/8 + 12}, true
	case 12:
		return Traits{"q4_K", qkK, 4 + 12 + qkK/2}, true
	case 13:
		return Traits{"q5_K", qkK, 4 + 12 + qkK/2 + qkK/8}, true
	case 14:
		return Traits{"q6_K", qkK, 2 + qkK/16 + 3*qkK/4}, true
	case 15:
		return Traits{"q8_K", qkK, 4 + qkK + qkK/16*2}, true
	case 16:
		return Traits{"iq2_xxs", qkK, 2 + qkK/8*2}, true
	case 17:
		return Traits{"iq2_xs", qkK, 2 + qkK/8*2 + qkK/32}, true
	case 18:
		return Traits{"iq3_xxs", qkK, 2 + 3*(qkK/8)}, true
	case 19:
		return Traits{"iq1_s", qkK, 2 + qkK/8 + qkK/16}, true
	case 20:
		return Traits{"iq4_nl", 32, 2 + 16}, true
	case 21:
		return Traits{"iq3_s", qkK, 2 + 13*(qkK/32) + qkK/64}, true
	case 22:
		return Traits{"iq2_s", qkK, 2 + qkK/4 + qkK/16}, true
	case 23:
		return Traits{"iq4_xs", qkK, 2 + 2 + qkK/64 + qkK/2}, true
	case 24:
		return Traits{"i8", 1, 1}, true
	case 25:
		return Traits{"i16", 1, 2}, true
	case 26:
		return Traits{"i32", 1, 4}, true
	case 27:
		return Traits{"i64", 1, 8}, true
	case 28:
		return Traits{"f64", 1, 8}, true
	case 29:
		return Traits{"iq1_m", qkK, qkK/8 + qkK/16 + qkK/32}, true
	case 30:
		return Traits{"bf16", 1, 2}, true
	case 34:
		return Traits{"tq1_0", qkK, 2 + qkK/64 + (qkK-4*qkK/64)/5}, true
	case 35:
		return Traits{"tq2_0", qkK, 2 + qkK/4}, true
	case 39:
		return Traits{"mxfp4", 32, 1 + 16}, true
	}
	return Traits{}, false
}

// String returns ggml's name for the type, e.g. "q4_K".
func (t Type) String() string {
	if tr, ok := t.Traits(); ok {
		return tr.Name
	}
	return fmt.Sprintf("ggml_type(%d)", uint32(t))
}
