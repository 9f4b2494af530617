package runner

import (
	"strings"
	"testing"
)

func TestLoadFailureSaysWhatToDo(t *testing.T) {
	for _, c := range []struct{ last, want string }{
		{"llama_model_load: error loading model: error loading model architecture: unknown model architecture: 'x'", "cannot run it"},
		{"gguf_init_from_file_impl: tensor data is not within the file bounds", "truncated or corrupt"},
		{"ggml_backend_cuda_buffer_type_alloc_buffer: allocating 3847.55 MiB on device 0: cudaMalloc failed: out of memory", "--gpu-layers"},
		{"", "--verbose"},
	} {
		if got := loadFailure(c.last); !strings.Contains(got, c.want) {
			t.Errorf("loadFailure(%q) = %q, want it to mention %q", c.last, got, c.want)
		}
	}
}
