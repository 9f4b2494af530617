package runner

import (
	"fmt"
	"strings"
)

// QuantType is a target of llama.cpp's quantizer: a llama_ftype, named as llama-quantize
// names it.
type QuantType struct {
	Name  string
	FType int     // llama_ftype
	BPW   float64 // nominal bits per weight of the mix's main tensor type, to order types
	// NeedsImatrix: llama-quantize refuses these without an importance matrix, which
	// olm cannot make yet.
	NeedsImatrix bool
	Desc         string
}

// QuantTypes are the types llama-quantize accepts (its QUANT_OPTIONS, same llama.cpp),
// from most to fewest bits.
var QuantTypes = []QuantType{
	{"F32", 0, 32, false, "no quantization"},
	{"F16", 1, 16, false, "half precision"},
	{"BF16", 32, 16, false, "bfloat16"},
	{"Q8_0", 7, 8.5, false, "8-bit, nearly lossless"},
	{"Q6_K", 18, 6.56, false, "6-bit k-quant"},
	{"Q5_1", 9, 6, false, "5-bit with offset (legacy)"},
	{"Q5_K_M", 17, 5.69, false, "5-bit k-quant mix, medium"},
	{"Q5_K_S", 16, 5.54, false, "5-bit k-quant mix, small"},
	{"Q5_0", 8, 5.5, false, "5-bit (legacy)"},
	{"Q4_1", 3, 5, false, "4-bit with offset (legacy)"},
	{"Q4_K_M", 15, 4.89, false, "4-bit k-quant mix, medium: the usual choice"},
	{"Q4_K_S", 14, 4.58, false, "4-bit k-quant mix, small"},
	{"Q4_0", 2, 4.5, false, "4-bit (legacy)"},
	{"IQ4_NL", 25, 4.5, false, "4-bit non-linear"},
	{"Q3_K_L", 13, 4.27, false, "3-bit k-quant mix, large"},
	{"MXFP4_MOE", 38, 4.25, false, "MXFP4 for expert tensors"},
	{"IQ4_XS", 30, 4.25, false, "4-bit non-linear, extra small"},
	{"Q3_K_M", 12, 3.91, false, "3-bit k-quant mix, medium"},
	{"IQ3_M", 27, 3.66, false, "3-bit i-quant mix, medium"},
	{"Q3_K_S", 11, 3.5, false, "3-bit k-quant mix, small"},
	{"IQ3_S", 26, 3.44, false, "3.4-bit i-quant"},
	{"IQ3_XS", 22, 3.3, false, "3.3-bit i-quant"},
	{"IQ3_XXS", 23, 3.06, false, "3.06-bit i-quant"},
	{"Q2_K", 10, 2.96, false, "2-bit k-quant mix"},
	{"IQ2_M", 29, 2.7, false, "2.7-bit i-quant"},
	{"Q2_K_S", 21, 2.6, true, "2-bit k-quant mix, small"},
	{"IQ2_S", 28, 2.5, true, "2.5-bit i-quant"},
	{"IQ2_XS", 20, 2.31, true, "2.31-bit i-quant"},
	{"IQ2_XXS", 19, 2.06, true, "2.06-bit i-quant"},
	{"TQ2_0", 37, 2.06, false, "ternary, for ternary-trained models"},
	{"IQ1_M", 31, 1.75, true, "1.75-bit i-quant"},
	{"TQ1_0", 36, 1.69, false, "ternary, for ternary-trained models"},
	{"IQ1_S", 24, 1.56, true, "1.56-bit i-quant"},
}

// quantAliases are llama-quantize's short names for the medium mixes.
var quantAliases = map[string]string{"Q3_K": "Q3_K_M", "Q4_K": "Q4_K_M", "Q5_K": "Q5_K_M"}

// QuantTypeNames lists the accepted names, in QuantTypes' order.
func QuantTypeNames() []string {
	names := make([]string, len(QuantTypes))
	for i, q := range QuantTypes {
		names[i] = q.Name
	}
	return names
}

// ParseQuantType looks a type up by name, case-insensitively.
func ParseQuantType(name string) (QuantType, error) {
	n := strings.ToUpper(strings.TrimSpace(name))
	if a, ok := quantAliases[n]; ok {
		n = a
	}
	for _, q := range QuantTypes {
		if q.Name == n {
			if q.NeedsImatrix {
				return QuantType{}, fmt.Errorf("%s needs an importance matrix, which olm quantize does not make; pick IQ2_M, Q2_K or a larger type", q.Name)
			}
			return q, nil
		}
	}
	return QuantType{}, fmt.Errorf("unknown quantization type %q; use one of %s", name, strings.Join(QuantTypeNames(), ", "))
}

// quantTypeByFType finds the type of a llama_ftype value, for a file's general.file_type.
func quantTypeByFType(ftype int) (QuantType, bool) {
	for _, q := range QuantTypes {
		if q.FType == ftype {
			return q, true
		}
	}
	return QuantType{}, false
}

// isFloat reports whether a file type stores unquantized weights.
func (q QuantType) isFloat() bool { return q.BPW >= 16 }

// CheckRequantize refuses what llama.cpp would refuse or do badly: quantizing a file
// whose weights are already quantized to fewer bits than the target (the lost precision
// does not come back), or requantizing at all unless allowed. inFType is the input's
// general.file_type (-1: unknown).
func CheckRequantize(inFType int, target QuantType, allow bool) error {
	in, ok := quantTypeByFType(inFType)
	if !ok || in.isFloat() {
		return nil
	}
	if in.BPW < target.BPW {
		return fmt.Errorf("the input is already quantized to %s (%.2g bits per weight), below %s (%.2g): quantizing it up cannot restore what was lost; start from the F16 or F32 model",
			in.Name, in.BPW, target.Name, target.BPW)
	}
	if in.FType == target.FType {
		return fmt.Errorf("the input is already %s; nothing to do", in.Name)
	}
	if !allow {
		return fmt.Errorf("the input is already quantized (%s): quantizing it again to %s loses more than quantizing the F16 or F32 model; start from that, or pass --allow-requantize", in.Name, target.Name)
	}
	return nil
}
