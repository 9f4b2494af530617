package runner

/*
#include <stdlib.h>
#include "llama.h"
#include "utf8guard.h"

extern _Bool olmLoadProgress(float progress, void *user_data);
static void olm_set_progress(struct llama_model_params *p, uintptr_t handle) {
	p->progress_callback = (llama_progress_callback)olmLoadProgress;
	p->progress_callback_user_data = (void *)handle;
}

// olm_fit_gpu asks llama.cpp to fit the layers to free GPU memory for a context of n_ctx
// tokens, as llama-cli does by default, leaving margin bytes free per device. It may
// point p at the split and override buffers, which must outlive the load.
static _Bool olm_fit_gpu(const char *path, struct llama_model_params *p, uint32_t n_ctx, size_t margin,
		float *split, struct llama_model_tensor_buft_override *tbo) {
	struct llama_context_params cp = llama_context_default_params();
	cp.n_ctx = n_ctx;
	return llama_params_fit(path, p, &cp, split, tbo, margin, n_ctx, GGML_LOG_LEVEL_ERROR);
}
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"runtime/cgo"
	"strings"
	"unsafe"
)

// ModelOptions control how a GGUF file is loaded.
type ModelOptions struct {
	NoMmap    bool          // read the file into memory instead of mapping it
	Mlock     bool          // pin the weights in RAM
	GPULayers int           // layers to offload (AutoGPULayers: what fits); without a GPU, none
	Progress  func(float64) // called with 0..1 while the weights load; may be nil

	// FitContext is the context size AutoGPULayers plans for (0: 4096), so the KV cache
	// that comes later still fits beside the weights.
	FitContext int

	probe bool // metadata and tensor layout only (llama.cpp's no_alloc): see ProbeModel
}

// AutoGPULayers offloads as many layers as fit in free GPU memory with 1 GiB to spare:
// llama.cpp's own fit (llama_params_fit, llama-cli's default), so a model too large for
// the GPU splits between GPU and CPU instead of failing to load.
const AutoGPULayers = -1

// gpuMargin is the memory per GPU that AutoGPULayers leaves free, as llama-cli does.
const gpuMargin = 1 << 30

// Model is a loaded GGUF model. Close frees it.
type Model struct {
	m     *C.struct_llama_model
	vocab *C.struct_llama_vocab
	path  string

	special specialCache // control tokens, read from the vocabulary on first use
	utf8    utf8Cache    // the UTF-8 guard's table (utf8guard.h), built on first use
}

type loadState struct {
	ctx      context.Context
	progress func(float64)
}

//export olmLoadProgress
func olmLoadProgress(progress C.float, userData unsafe.Pointer) C._Bool {
	st := cgo.Handle(uintptr(userData)).Value().(*loadState)
	if st.progress != nil {
		st.progress(float64(progress))
	}
	// Returning false makes llama.cpp abandon the load: that is how Ctrl-C reaches it.
	return C._Bool(st.ctx.Err() == nil)
}

// LoadModel loads a GGUF file. The file is checked first (see CheckGGUF) so that bad input
// gets a clear error instead of reaching llama.cpp's asserts.
func LoadModel(ctx context.Context, path string, opts ModelOptions) (*Model, error) {
	if _, err := CheckGGUF(path); err != nil {
		return nil, err
	}
	initBackend()
	params := C.llama_model_default_params()
	params.use_mmap = C.bool(!opts.NoMmap)
	params.use_mlock = C.bool(opts.Mlock)
	if opts.probe { // as llama.cpp's fit does: no_alloc asserts against an mmap buffer
		params.no_alloc, params.use_mmap = true, false
		// The CPU alone: the probe reads the layout, not where it would go, and a GPU
		// backend need not even start for it.
		devs := (*[2]C.ggml_backend_dev_t)(C.calloc(2, C.size_t(unsafe.Sizeof(C.ggml_backend_dev_t(nil)))))
		defer C.free(unsafe.Pointer(devs))
		devs[0] = C.ggml_backend_dev_by_type(C.GGML_BACKEND_DEVICE_TYPE_CPU)
		params.devices = &devs[0]
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	switch {
	case opts.GPULayers >= 0:
		params.n_gpu_layers = C.int32_t(opts.GPULayers)
	case !SupportsGPU():
		params.n_gpu_layers = 0
	default: // llama.cpp's default offloads every layer; the fit lowers that when needed
		split := (*C.float)(C.calloc(C.llama_max_devices(), C.size_t(unsafe.Sizeof(C.float(0)))))
		tbo := (*C.struct_llama_model_tensor_buft_override)(C.calloc(C.llama_max_tensor_buft_overrides(),
			C.size_t(unsafe.Sizeof(C.struct_llama_model_tensor_buft_override{}))))
		defer C.free(unsafe.Pointer(split))
		defer C.free(unsafe.Pointer(tbo))
		n := opts.FitContext
		if n <= 0 {
			n = 4096
		}
		fitGPU(cpath, &params, n, split, tbo)
	}
	st := &loadState{ctx: ctx, progress: opts.Progress}
	h := cgo.NewHandle(st)
	defer h.Delete()
	C.olm_set_progress(&params, C.uintptr_t(h))

	capt := captureErrors()
	defer capt.done()
	m := C.llama_model_load_from_file(cpath, params)
	releaseNow() // the load may have made and freed a backend for async uploads (CUDA)
	if m == nil {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("load %s: %w", path, err)
		}
		return nil, fmt.Errorf("load %s: %s", path, loadFailure(capt.done()))
	}
	return &Model{m: m, vocab: C.llama_model_get_vocab(m), path: path}, nil
}

// ProbeModel loads a model as LoadModel does but allocates and reads no weights (llama.cpp's
// no_alloc, which its own GPU fit uses): it finds what llama.cpp refuses beyond the GGUF
// check, such as an unknown architecture or missing keys and tensors, in the time it takes
// to read the header. olm import uses it so that it never registers a file run would refuse.
func ProbeModel(ctx context.Context, path string) error {
	m, err := LoadModel(ctx, path, ModelOptions{GPULayers: 0, probe: true})
	if err != nil {
		return err
	}
	m.Close()
	return nil
}

// fitGPU runs llama.cpp's fit, which creates and frees trial contexts, under freeMu. When
// the fit fails (its reason is in the log), the model loads on the CPU rather than failing
// for want of GPU memory.
func fitGPU(path *C.char, p *C.struct_llama_model_params, nCtx int, split *C.float, tbo *C.struct_llama_model_tensor_buft_override) {
	freeMu.Lock()
	defer freeMu.Unlock()
	if !C.olm_fit_gpu(path, p, C.uint32_t(nCtx), gpuMargin, split, tbo) {
		p.n_gpu_layers, p.tensor_split, p.tensor_buft_overrides = 0, nil, nil
	}
	releaseBackends()
}

// trimLlama strips the prefixes llama.cpp puts before its messages: function names
// ("llama_model_load: ") and "error loading model: " and the like.
func trimLlama(last string) string {
	for {
		head, rest, ok := strings.Cut(last, ": ")
		if !ok {
			return last
		}
		switch head {
		case "error loading model", "error loading model architecture", "failed to initialize the context":
		default:
			if strings.Trim(head, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
				return last
			}
		}
		last = rest
	}
}

// outOfMemory reports whether a llama.cpp message means an allocation failed: C++'s
// std::bad_alloc and std::length_error, ggml's buffer allocation, CUDA's cudaMalloc.
func outOfMemory(msg string) bool {
	for _, s := range []string{"out of memory", "failed to allocate", "bad_alloc", "length_error", "cannot allocate", "unable to allocate"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// loadFailure turns llama.cpp's last error line into a one-line message that names the
// problem and the fix; llama.cpp's own words stay in parentheses.
func loadFailure(last string) string {
	// "llama_model_load: error loading model: error loading model architecture: x" -> "x"
	last = trimLlama(last)
	has := func(subs ...string) bool {
		for _, s := range subs {
			if strings.Contains(last, s) {
				return true
			}
		}
		return false
	}
	switch {
	case last == "":
		return "llama.cpp could not load the model (run with --verbose for its log)"
	case has("unknown model architecture", "unsupported model architecture"):
		return last + " (this llama.cpp build (" + LlamaCommit + ") cannot run it; use a GGUF of a supported architecture)"
	case has("unknown pre-tokenizer", "unknown tokenizer"):
		return "the model's tokenizer is not one this llama.cpp build (" + LlamaCommit + ") knows (" + last + "): the GGUF is newer than this build, or damaged; use a GGUF of a supported model"
	case has("out of bounds", "within the file bounds", "failed to read", "invalid data"):
		return "the file is truncated or corrupt (" + last + "); download it again"
	case has("cudaMalloc") || (outOfMemory(last) && has("CUDA", "GPU", "on device")):
		return "out of GPU memory (" + last + "); offload fewer layers with --gpu-layers N, or pick a smaller quant"
	case outOfMemory(last):
		return "out of memory while loading the model (" + last + "); close other programs or pick a smaller quant, and if the file is small its header is damaged: download it again"
	case has("split"):
		return "a part of the split model is missing or does not match (" + last + "); download every part and give the first (-00001-of-N)"
	case has("key not found", "wrong type", "wrong array length", "not a string/float32", "exceeds max", "N_MAX",
		"missing tensor", "' not found", "wrong number of tensors", "wrong shape", "corrupted model", "duplicated",
		"tensors expected", "invalid n_rot", "n_expert", "experts", "tokenizer vocab", "expansion factor"):
		return "the file does not hold what llama.cpp expects for its architecture (" + last + "); it is damaged, incomplete or made by an incompatible converter: download it again or get another GGUF build"
	}
	return "llama.cpp could not load it (" + last + "); run with --verbose for its log, and try another GGUF build of the model"
}

// contextFailure is loadFailure for llama_init_from_model.
func contextFailure(last string, nCtx int) string {
	last = trimLlama(last)
	switch {
	case last == "":
		return fmt.Sprintf("llama.cpp could not create a context of %d tokens (too little memory?); lower --ctx", nCtx)
	case outOfMemory(last):
		return fmt.Sprintf("not enough memory for a context of %d tokens (%s); lower --ctx, or offload fewer layers with --gpu-layers N", nCtx, last)
	}
	return fmt.Sprintf("llama.cpp could not create a context of %d tokens (%s); lower --ctx, or run with --verbose for its log", nCtx, last)
}

// Close frees the model. Safe to call twice.
func (m *Model) Close() {
	if m != nil && m.m != nil {
		C.llama_model_free(m.m)
		m.m = nil
		C.olm_utf8_table_free(m.utf8.table)
		m.utf8.table = nil
	}
}

// Path is the file the model was loaded from.
func (m *Model) Path() string { return m.path }

// Meta returns a GGUF metadata value as a string.
func (m *Model) Meta(key string) (string, bool) {
	ckey := C.CString(key)
	defer C.free(unsafe.Pointer(ckey))
	buf := make([]byte, 256)
	for {
		n := C.llama_model_meta_val_str(m.m, ckey, (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)))
		if n < 0 {
			return "", false
		}
		if int(n) < len(buf) {
			return string(buf[:n]), true
		}
		buf = make([]byte, int(n)+1)
	}
}

// ChatTemplate is the Jinja chat template embedded in the GGUF, or "" if none.
func (m *Model) ChatTemplate() string {
	t := C.llama_model_chat_template(m.m, nil)
	if t == nil {
		return ""
	}
	return C.GoString(t)
}

// Desc is llama.cpp's one-line description, e.g. "llama 1B Q4_0".
func (m *Model) Desc() string {
	buf := make([]byte, 128)
	n := C.llama_model_desc(m.m, (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)))
	if n < 0 {
		return ""
	}
	return string(buf[:min(int(n), len(buf))])
}

// Size is the total size of the weights in bytes.
func (m *Model) Size() uint64 { return uint64(C.llama_model_size(m.m)) }

// NParams is the number of parameters.
func (m *Model) NParams() uint64 { return uint64(C.llama_model_n_params(m.m)) }

// TrainCtx is the context length the model was trained with.
func (m *Model) TrainCtx() int { return int(C.llama_model_n_ctx_train(m.m)) }

// NVocab is the vocabulary size.
func (m *Model) NVocab() int { return int(C.llama_vocab_n_tokens(m.vocab)) }

// Arch is general.architecture.
func (m *Model) Arch() string { a, _ := m.Meta("general.architecture"); return a }

var errClosed = errors.New("model is closed")
