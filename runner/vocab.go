package runner

/*
#include <stdlib.h>
#include "llama.h"
*/
import "C"

import (
	"context"
	"fmt"
	"unsafe"
)

// LoadVocab loads only a model's vocabulary (no weights: milliseconds even for a 70B
// file), for tokenizing. The Model it returns can tokenize and detokenize but not make
// a context.
func LoadVocab(ctx context.Context, path string) (*Model, error) {
	if _, err := CheckGGUF(path); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	initBackend()
	params := C.llama_model_default_params()
	params.vocab_only = true
	params.n_gpu_layers = 0
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	capt := captureErrors()
	defer capt.done()
	m := C.llama_model_load_from_file(cpath, params)
	if m == nil {
		return nil, fmt.Errorf("load %s: %s", path, loadFailure(capt.done()))
	}
	return &Model{m: m, vocab: C.llama_model_get_vocab(m), path: path}, nil
}
