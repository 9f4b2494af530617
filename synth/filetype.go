package synth

import (
	"fmt"
	"strings"
)

// FileType is llama.cpp's llama_ftype, stored as general.file_type: the
// quantization mix a whole file was made with (llama-quantize's argument).
type FileType uint32

// llama_ftype values (llama.h) for the mixes this package can reproduce. The IQ
// mixes are left out: llama.cpp refuses most of them without an importance matrix.
const (
	FileTypeF32    FileType = 0
	FileTypeF16    FileType = 1
	FileTypeQ4_0   FileType = 2
	FileTypeQ4_1   FileType = 3
	FileTypeQ8_0   FileType = 7
	FileTypeQ5_0   FileType = 8
	FileTypeQ5_1   FileType = 9
	FileTypeQ2_K   FileType = 10
	FileTypeQ3_K_S FileType = 11
	FileTypeQ3_K_M FileType = 12
	FileTypeQ3_K_L FileType = 13
	FileTypeQ4_K_S FileType = 14
	FileTypeQ4_K_M FileType = 15
	FileTypeQ5_K_S FileType = 16
	FileTypeQ5_K_M FileType = 17
	FileTypeQ6_K   FileType = 18
	FileTypeBF16   FileType = 32
)

// fileTypeInfo gives a file type's name and its default tensor type, as in
// llama_model_quantize_impl's switch.
func (f FileType) info() (string, GGMLType, bool) {
	switch f {
	case FileTypeF32:
		return "F32", TypeF32, true
	case FileTypeF16:
		return "F16", TypeF16, true
	case FileTypeBF16:
		return "BF16", TypeBF16, true
	case FileTypeQ4_0:
		return "Q4_0", TypeQ4_0, true
	case FileTypeQ4_1:
		return "Q4_1", TypeQ4_1, true
	case FileTypeQ5_0:
		return "Q5_0", TypeQ5_0, true
	case FileTypeQ5_1:
		return "Q5_1", TypeQ5_1, true
	case FileTypeQ8_0:
		return "Q8_0", TypeQ8_0, true
	case FileTypeQ2_K:
		return "Q2_K", TypeQ2_K, true
	case FileTypeQ3_K_S:
		return "Q3_K_S", TypeQ3_K, true
	case FileTypeQ3_K_M:
		return "Q3_K_M", TypeQ3_K, true
	case FileTypeQ3_K_L:
		return "Q3_K_L", TypeQ3_K, true
	case FileTypeQ4_K_S:
		return "Q4_K_S", TypeQ4_K, true
	case FileTypeQ4_K_M:
		return "Q4_K_M", TypeQ4_K, true
	case FileTypeQ5_K_S:
		return "Q5_K_S", TypeQ5_K, true
	case FileTypeQ5_K_M:
		return "Q5_K_M", TypeQ5_K, true
	case FileTypeQ6_K:
		return "Q6_K", TypeQ6_K, true
	}
	return "", 0, false
}

// String returns the llama-quantize name, e.g. "Q4_K_M".
func (f FileType) String() string {
	if name, _, ok := f.info(); ok {
		return name
	}
	return fmt.Sprintf("ftype(%d)", uint32(f))
}

// DefaultType is the tensor type most 2-D weights get under this file type.
func (f FileType) DefaultType() (GGMLType, error) {
	_, t, ok := f.info()
	if !ok {
		return 0, fmt.Errorf("unsupported file type %d", uint32(f))
	}
	return t, nil
}

// ParseFileType accepts llama-quantize names, case-insensitively ("q4_k_m", "F16").
func ParseFileType(s string) (FileType, error) {
	want := strings.ToUpper(strings.TrimSpace(s))
	for f := FileType(0); f <= FileTypeBF16; f++ {
		if name, _, ok := f.info(); ok && name == want {
			return f, nil
		}
	}
	return 0, fmt.Errorf("unknown file type %q", s)
}
