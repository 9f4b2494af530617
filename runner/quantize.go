package runner

/*
#include <stdlib.h>
#include "ggml.h"
#include "llama.h"
*/
import "C"

import (
	"context"
	"fmt"
	"os"
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

// QuantizeFile rewrites a GGUF model as file type ftype (llama_ftype: 2 = Q4_0,
// 15 = Q4_K_M, 7 = Q8_0, ...) with llama.cpp's quantizer. It writes out atomically.
func QuantizeFile(ctx context.Context, in, out string, ftype, threads int) error {
	if _, err := CheckGGUF(in); err != nil {
		return err
	}
	initBackend()
	p := C.llama_model_quantize_default_params()
	p.ftype = C.enum_llama_ftype(ftype)
	p.nthread = C.int32_t(threads)
	tmp := out + ".tmp"
	cin, ctmp := C.CString(in), C.CString(tmp)
	defer C.free(unsafe.Pointer(cin))
	defer C.free(unsafe.Pointer(ctmp))
	takeLastError()
	done := make(chan C.uint32_t, 1)
	go func() { done <- C.llama_model_quantize(cin, ctmp, &p) }()
	select {
	case rc := <-done:
		if rc != 0 {
			os.Remove(tmp)
			return fmt.Errorf("quantize %s: %s", in, takeLastError())
		}
	case <-ctx.Done():
		// llama.cpp's quantizer cannot be interrupted; wait for it, then discard the output.
		<-done
		os.Remove(tmp)
		return ctx.Err()
	}
	return os.Rename(tmp, out)
}
