// Package runner is olm's engine: our own cgo binding to llama.cpp's C API (llama.h), the
// token-generation loop built on it, and the benchmark harness.
//
// Ownership rule: every C object (model, context, batch, sampler) belongs to exactly one Go
// value with a Close method; nothing relies on finalizers.
package runner

/*
#cgo CPPFLAGS: -I${SRCDIR}/../third_party/ollama/llama/llama.cpp/include
#cgo CPPFLAGS: -I${SRCDIR}/../third_party/ollama/ml/backend/ggml/ggml/include
#cgo CPPFLAGS: -I${SRCDIR}/../third_party/ollama/llama/llama.cpp/src
#cgo CXXFLAGS: -std=c++17
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "llama.h"

extern void olmLog(int level, char *text, void *user_data);
static void olm_log_init(void) { llama_log_set((ggml_log_callback)olmLog, NULL); }

// olm_ggml_abort takes the place of ggml's abort (SIGABRT, a core dump and a page of gdb
// backtrace): a GGML_ASSERT that the GGUF check did not foresee still ends the process, as
// llama.cpp's state is not safe to go on with, but in one line that says what to do, with
// exit status 1. OLM_GGML_BACKTRACE=1 keeps ggml's own report for debugging.
static void olm_ggml_abort(const char *msg) {
	fprintf(stderr, "olm: llama.cpp stopped on a failed internal check (%s): the model file is damaged or has shapes this llama.cpp build cannot run; download it again or try another GGUF build\n", msg);
	fflush(stderr);
	_exit(1);
}
static void olm_abort_init(void) {
	const char *bt = getenv("OLM_GGML_BACKTRACE");
	if (bt == NULL || bt[0] == 0) ggml_set_abort_callback(olm_ggml_abort);
}
// olm_test_abort fails a GGML_ASSERT on purpose, for the test of olm_ggml_abort.
static void olm_test_abort(void) { GGML_ASSERT(0 && "olm test"); }
*/
import "C"

import (
	"runtime/debug"
	"strings"
	"sync"

	// llama.cpp and ggml are compiled from the sources that the pinned ollama module carries;
	// these imports exist only to link them in (see README: "Where llama.cpp comes from").
	_ "github.com/ollama/ollama/llama/llama.cpp/src"
	_ "github.com/ollama/ollama/ml/backend/ggml/ggml/src"
)

// LlamaCommit is the upstream llama.cpp commit that ollama v0.17.4 vendors.
const LlamaCommit = "ec98e2002"

// BuildFlags is set by the Makefile (-ldflags -X) to the C flags ggml was compiled with.
var BuildFlags = "unknown (built without make)"

var backendOnce sync.Once

// initBackend initialises llama.cpp once per process. Called by every entry point that
// touches llama.cpp, so callers never have to remember it.
func initBackend() {
	backendOnce.Do(func() {
		C.olm_log_init()
		C.olm_abort_init()
		loadBackends()
		C.llama_backend_init()
		wrapDevices()
	})
}

// failAssert fails a GGML_ASSERT (the test of the abort handler runs it in a child).
func failAssert() {
	initBackend()
	C.olm_test_abort()
}

// SystemInfo is llama.cpp's own summary of the CPU features the linked ggml uses.
func SystemInfo() string {
	initBackend()
	return C.GoString(C.llama_print_system_info())
}

// SupportsGPU reports whether a GPU backend is loaded and has a device.
func SupportsGPU() bool {
	initBackend()
	return bool(C.llama_supports_gpu_offload())
}

// OllamaVersion returns the version of the ollama module llama.cpp came from.
func OllamaVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/ollama/ollama" {
				return d.Version
			}
		}
	}
	return "unknown"
}

// CPUFeatures lists the SIMD features ggml was compiled to use, from llama.cpp's system
// info ("AVX2 = 1 | F16C = 1 | ...").
func CPUFeatures() []string {
	var feats []string
	for _, part := range strings.Split(SystemInfo(), "|") {
		k, v, ok := strings.Cut(part, "=")
		if !ok || strings.TrimSpace(v) != "1" {
			continue
		}
		k = strings.TrimSpace(k)
		if i := strings.LastIndex(k, ":"); i >= 0 { // "CPU : SSE3"
			k = strings.TrimSpace(k[i+1:])
		}
		feats = append(feats, k)
	}
	return feats
}
