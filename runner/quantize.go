package runner

/*
#include <stdlib.h>
#include "ggml.h"
#include "gguf.h"
#include "llama.h"

// olm_file_type reads general.file_type from a GGUF header without loading tensors.
static int olm_file_type(const char *path) {
	struct gguf_init_params p = { .no_alloc = 1, .ctx = NULL };
	struct gguf_context *g = gguf_init_from_file(path, p);
	if (!g) return -1;
	int64_t k = gguf_find_key(g, "general.file_type");
	int ft = -1;
	if (k >= 0 && gguf_get_kv_type(g, k) == GGUF_TYPE_UINT32) ft = (int)gguf_get_val_u32(g, k);
	gguf_free(g);
	return ft;
}
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unsafe"
)

// QuantizeRows converts nrows rows of ncols float32 weights into ggml type typ using
// ggml's own row quantizers, so a synthetic model's blocks are byte-for-byte what
// llama.cpp's quantizer would write for the same values.
func QuantizeRows(typ uint32, src []float32, nrows, ncols int) ([]byte, error) {
	if nrows*ncols != len(src) || nrows <= 0 || ncols <= 0 {
		return nil, fmt.Errorf("quantize: %d values are not %d rows of %d", len(src), nrows, ncols)
	}
	t := C.enum_ggml_type(typ)
	if C.ggml_blck_size(t) <= 0 || ncols%int(C.ggml_blck_size(t)) != 0 {
		return nil, fmt.Errorf("quantize: rows of %d values do not split into %s blocks", ncols, C.GoString(C.ggml_type_name(t)))
	}
	if C.ggml_quantize_requires_imatrix(t) {
		return nil, fmt.Errorf("quantize: %s needs an importance matrix", C.GoString(C.ggml_type_name(t)))
	}
	initBackend()
	dst := make([]byte, int(C.ggml_row_size(t, C.int64_t(ncols)))*nrows)
	n := C.ggml_quantize_chunk(t, (*C.float)(unsafe.Pointer(&src[0])), unsafe.Pointer(&dst[0]), 0,
		C.int64_t(nrows), C.int64_t(ncols), nil)
	if int(n) != len(dst) {
		return nil, fmt.Errorf("quantize: wrote %d bytes, want %d", n, len(dst))
	}
	return dst, nil
}

// QuantizeOptions control a file quantization.
type QuantizeOptions struct {
	Type            QuantType
	Threads         int  // 0: llama.cpp's default (all hardware threads)
	AllowRequantize bool // quantize a file whose weights are already quantized
	// Progress is called as each tensor starts (1-based), with its name; may be nil.
	Progress func(done, total int, tensor string)
}

// QuantizeResult says what the quantizer did.
type QuantizeResult struct {
	Tensors   int
	Fallbacks int // tensors whose rows do not split into the type's blocks, given another type
	// Converted counts the tensors converted to each ggml type ("q8_0": 30); the rest
	// (norms, mostly) were copied as they were.
	Converted map[string]int
}

// ErrBlockSize marks a model whose tensor shapes the chosen type cannot hold.
var ErrBlockSize = errors.New("tensor rows do not split into the type's blocks")

var (
	quantLine     = regexp.MustCompile(`^\[\s*(\d+)/\s*(\d+)\]\s+(\S+) - `)
	quantTo       = regexp.MustCompile(`converting to (\w+) \.\.`)
	quantBadShape = regexp.MustCompile(`tensor cols (\d+) x (\d+) are not divisible by (\d+), required for`)
)

// QuantizeFile rewrites a GGUF model as file type ftype (llama_ftype: 2 = Q4_0,
// 15 = Q4_K_M, 7 = Q8_0, ...) with llama.cpp's quantizer. It writes out atomically.
func QuantizeFile(ctx context.Context, in, out string, ftype, threads int) error {
	q, ok := quantTypeByFType(ftype)
	if !ok {
		return fmt.Errorf("quantize: unknown llama_ftype %d", ftype)
	}
	_, err := Quantize(ctx, in, out, QuantizeOptions{Type: q, Threads: threads})
	return err
}

// quantizeMu keeps quantizations one at a time: each reads its progress from
// llama.cpp's one process-wide log, which cannot tell two apart.
var quantizeMu sync.Mutex

// Quantize rewrites the GGUF model in as out with llama.cpp's quantizer (what
// llama-quantize runs). out is written atomically: a failure leaves nothing behind.
func Quantize(ctx context.Context, in, out string, o QuantizeOptions) (QuantizeResult, error) {
	quantizeMu.Lock()
	defer quantizeMu.Unlock()
	if _, err := CheckGGUF(in); err != nil {
		return QuantizeResult{}, err
	}
	initBackend()
	if err := CheckRequantize(FileType(in), o.Type, o.AllowRequantize); err != nil {
		return QuantizeResult{}, fmt.Errorf("quantize %s: %w", in, err)
	}
	p := C.llama_model_quantize_default_params()
	p.ftype = C.enum_llama_ftype(o.Type.FType)
	p.nthread = C.int32_t(o.Threads)
	p.allow_requantize = C.bool(o.AllowRequantize)
	// A fresh temporary name beside out: never a file of the user's that happens to be
	// called out.tmp.
	tf, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*.tmp")
	if err != nil {
		return QuantizeResult{}, fmt.Errorf("quantize %s: %w", in, err)
	}
	tmp := tf.Name()
	tf.Close()
	cin, ctmp := C.CString(in), C.CString(tmp)
	defer C.free(unsafe.Pointer(cin))
	defer C.free(unsafe.Pointer(ctmp))
	res := QuantizeResult{Converted: map[string]int{}}
	var badShape, tensor string
	untap := tapLog(func(_ int, line string) {
		if m := quantLine.FindStringSubmatch(line); m != nil {
			done, _ := strconv.Atoi(m[1])
			res.Tensors, _ = strconv.Atoi(m[2])
			tensor = m[3]
			if o.Progress != nil {
				o.Progress(done, res.Tensors, tensor)
			}
		}
		if m := quantTo.FindStringSubmatch(line); m != nil {
			res.Converted[m[1]]++
		}
		if strings.Contains(line, "using fallback quantization") {
			res.Fallbacks++
		}
		if m := quantBadShape.FindStringSubmatch(line); m != nil && strings.Contains(line, "Unsupported tensor size") {
			badShape = fmt.Sprintf("%s has rows of %s values, not a multiple of %s's %s-value blocks, and llama.cpp has no fallback type for %s",
				tensor, m[1], o.Type.Name, m[3], o.Type.Name)
		}
	})
	defer untap()
	capt := captureErrors()
	defer capt.done()
	done := make(chan C.uint32_t, 1)
	go func() { done <- C.llama_model_quantize(cin, ctmp, &p) }()
	select {
	case rc := <-done:
		if rc != 0 {
			os.Remove(tmp)
			msg := oneLine(capt.done())
			if badShape != "" {
				return res, fmt.Errorf("quantize %s to %s: %w: %s; the k-quants (Q6_K, Q5_K_M, Q4_K_M, ...) give such tensors another type instead",
					in, o.Type.Name, ErrBlockSize, badShape)
			}
			return res, fmt.Errorf("quantize %s to %s: %s", in, o.Type.Name, msg)
		}
	case <-ctx.Done():
		// llama.cpp's quantizer cannot be interrupted; wait for it, then discard the output.
		<-done
		os.Remove(tmp)
		return res, ctx.Err()
	}
	if err := os.Chmod(tmp, 0o644); err != nil { // CreateTemp's 0600 is not what a model file needs
		os.Remove(tmp)
		return res, err
	}
	return res, os.Rename(tmp, out)
}

// FileType is a GGUF file's general.file_type (a llama_ftype), or -1 when it has none.
func FileType(path string) int {
	initBackend()
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	return int(C.olm_file_type(cpath))
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
