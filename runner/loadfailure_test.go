package runner

import (
	"strings"
	"testing"
)

// llama.cpp's raw messages (std::bad_alloc, "key not found in model: ...") reached the user
// as they were (issue 14): each maps to one line that names the problem and the fix.
func TestLoadFailureSaysWhatToDo(t *testing.T) {
	for _, c := range []struct{ last, want string }{
		{"llama_model_load: error loading model: error loading model architecture: unknown model architecture: 'x'", "cannot run it"},
		{"gguf_init_from_file_impl: tensor data is not within the file bounds", "truncated or corrupt"},
		{"ggml_backend_cuda_buffer_type_alloc_buffer: allocating 3847.55 MiB on device 0: cudaMalloc failed: out of memory", "--gpu-layers"},
		{"", "--verbose"},
		{"llama_model_load: error loading model: std::bad_alloc", "out of memory while loading the model (std::bad_alloc); close other programs"},
		{"llama_model_load: error loading model: vector::_M_default_append: length_error", "out of memory"},
		{"llama_model_load: error loading model: error loading model hyperparameters: key not found in model: llama.context_length", "does not hold what llama.cpp expects"},
		{"llama_model_load: error loading model: missing tensor 'blk.0.attn_q.weight'", "download it again or get another GGUF build"},
		{"llama_model_load: error loading model: done_getting_tensors: wrong number of tensors; expected 292, got 291", "(wrong number of tensors; expected 292, got 291)"},
		{"llama_model_load: error loading model: invalid split count, given: 1 splits, but expected 3", "download every part"},
		{"llama_model_load: error loading model: unknown pre-tokenizer type: 'x'", "tokenizer is not one this llama.cpp build"},
		{"llama_model_load: error loading model: something new", "llama.cpp could not load it (something new); run with --verbose"},
	} {
		got := loadFailure(c.last)
		if !strings.Contains(got, c.want) {
			t.Errorf("loadFailure(%q) = %q, want it to mention %q", c.last, got, c.want)
		}
		if strings.Contains(got, "llama_model_load:") || strings.Contains(got, "error loading model:") {
			t.Errorf("loadFailure(%q) = %q keeps llama.cpp's prefixes", c.last, got)
		}
	}
}

func TestContextFailureSaysWhatToDo(t *testing.T) {
	for _, c := range []struct{ last, want string }{
		{"llama_init_from_model: failed to initialize the context: std::bad_alloc", "not enough memory for a context of 4096 tokens (std::bad_alloc); lower --ctx"},
		{"ggml_backend_cpu_buffer_type_alloc_buffer: failed to allocate buffer of size 17179869184", "lower --ctx"},
		{"", "lower --ctx"},
		{"llama_init_from_model: something else", "(something else); lower --ctx, or run with --verbose"},
	} {
		if got := contextFailure(c.last, 4096); !strings.Contains(got, c.want) {
			t.Errorf("contextFailure(%q) = %q, want it to mention %q", c.last, got, c.want)
		}
	}
}
