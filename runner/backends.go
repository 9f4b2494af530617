package runner

/*
// A backend library links its own libggml-base.so. Exporting olm's symbols makes the
// backend, and that library's own calls, resolve to the ggml compiled into olm, so one copy
// of ggml's state serves both (llama_free crashed with two copies, on a GPU machine).
#cgo linux LDFLAGS: -rdynamic
#cgo CPPFLAGS: -I${SRCDIR}/../third_party/ollama/ml/backend/ggml/ggml/src
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include "ggml-backend-impl.h"
#include "llama.h"

// The pinned llama.cpp frees a context's backends before its scheduler (member order in
// llama_context), and ollama's patched scheduler then calls each backend's reset: a
// use-after-free that crashes the first llama_free with CUDA (seen on an H200). olm wraps
// every device's init_backend so that a backend's free only marks it; the real free runs
// in olm_release_backends, called once llama_free has returned.
#define OLM_MAX_DEVICES 64
typedef ggml_backend_t (*olm_init_fn)(ggml_backend_dev_t, const char *);
static struct { ggml_backend_dev_t dev; olm_init_fn init; } olm_devices[OLM_MAX_DEVICES];
static int olm_ndevices;

struct olm_held {
	ggml_backend_t backend;
	void (*free)(ggml_backend_t);
	int released;
	struct olm_held *next;
};
static struct olm_held *olm_held_list;
static pthread_mutex_t olm_held_mu = PTHREAD_MUTEX_INITIALIZER;

static void olm_deferred_free(ggml_backend_t b) {
	pthread_mutex_lock(&olm_held_mu);
	for (struct olm_held *h = olm_held_list; h; h = h->next) {
		if (h->backend == b) {
			h->released = 1;
			break;
		}
	}
	pthread_mutex_unlock(&olm_held_mu);
}

static ggml_backend_t olm_init_backend(ggml_backend_dev_t dev, const char *params) {
	olm_init_fn init = NULL;
	for (int i = 0; i < olm_ndevices; i++) {
		if (olm_devices[i].dev == dev) init = olm_devices[i].init;
	}
	if (!init) return NULL;
	ggml_backend_t b = init(dev, params);
	if (!b || !b->iface.free) return b;
	struct olm_held *h = calloc(1, sizeof *h);
	if (!h) return b; // freed at once, as before
	h->backend = b;
	h->free = b->iface.free;
	b->iface.free = olm_deferred_free;
	pthread_mutex_lock(&olm_held_mu);
	h->next = olm_held_list;
	olm_held_list = h;
	pthread_mutex_unlock(&olm_held_mu);
	return b;
}

static void olm_release_backends(void) {
	pthread_mutex_lock(&olm_held_mu);
	for (struct olm_held **p = &olm_held_list; *p;) {
		struct olm_held *h = *p;
		if (h->released) {
			*p = h->next;
			h->free(h->backend);
			free(h);
		} else {
			p = &h->next;
		}
	}
	pthread_mutex_unlock(&olm_held_mu);
}

static void olm_wrap_devices(void) {
	for (size_t i = 0; i < ggml_backend_dev_count() && olm_ndevices < OLM_MAX_DEVICES; i++) {
		ggml_backend_dev_t d = ggml_backend_dev_get(i);
		if (!d->iface.init_backend || d->iface.init_backend == olm_init_backend) continue;
		olm_devices[olm_ndevices].dev = d;
		olm_devices[olm_ndevices].init = d->iface.init_backend;
		olm_ndevices++;
		d->iface.init_backend = olm_init_backend;
	}
}

static int olm_held_count(void) {
	int n = 0;
	pthread_mutex_lock(&olm_held_mu);
	for (struct olm_held *h = olm_held_list; h; h = h->next) n++;
	pthread_mutex_unlock(&olm_held_mu);
	return n;
}

extern void olmLog(int level, char *text, void *user_data);

// olm_route_log opens a backend's own copy of ggml-base first and points its
// log at ours: a backend library built by CMake links libggml-base.so, which
// otherwise prints to stderr (CUDA's device list, say) even without --verbose.
// The backend loaded next finds this copy already open by its soname.
static void olm_route_log(const char *base) {
	void *h = dlopen(base, RTLD_NOW | RTLD_LOCAL);
	if (!h) return;
	void (*set)(ggml_log_callback, void *) = (void (*)(ggml_log_callback, void *))dlsym(h, "ggml_log_set");
	if (set) set((ggml_log_callback)olmLog, NULL);
}

static int olm_backend_is_gpu(size_t i) {
	enum ggml_backend_dev_type t = ggml_backend_dev_type(ggml_backend_dev_get(i));
	return t == GGML_BACKEND_DEVICE_TYPE_GPU || t == GGML_BACKEND_DEVICE_TYPE_IGPU;
}
*/
import "C"

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"unsafe"
)

// GPU support comes as ggml backend libraries (libggml-cuda.so and the
// libggml-base.so it links), built by `make cuda` from the same ggml sources
// as the rest of olm and loaded when the process starts. A binary without
// them, or on a machine without the driver they need, runs on the CPU.

// LibraryPathEnv names the variable that overrides where backends are looked for.
const LibraryPathEnv = "OLM_LIBRARY_PATH"

// gpuBackendNames are the ggml backends olm loads from a library directory.
// The CPU backend is linked in, so a libggml-cpu*.so found there is ignored.
var gpuBackendNames = []string{"cuda", "hip", "vulkan", "sycl", "musa", "opencl"}

// libraryDirs are where backends are looked for: OLM_LIBRARY_PATH (a list),
// else lib/olm beside the binary's bin/ folder, where `make cuda` puts them.
func libraryDirs() []string {
	if v, ok := os.LookupEnv(LibraryPathEnv); ok {
		return filepath.SplitList(v)
	}
	exe, err := os.Executable()
	if err != nil {
		return nil
	}
	if real, err := filepath.EvalSymlinks(exe); err == nil {
		exe = real
	}
	return []string{filepath.Join(filepath.Dir(exe), "..", "lib", "olm")}
}

// backendLibraries returns the backend libraries in dir, ggml's naming:
// libggml-NAME.so or libggml-NAME-VARIANT.so.
func backendLibraries(dir string) []string {
	var libs []string
	for _, name := range gpuBackendNames {
		for _, pattern := range []string{"libggml-" + name + ".so", "libggml-" + name + "-*.so"} {
			m, _ := filepath.Glob(filepath.Join(dir, pattern))
			libs = append(libs, m...)
		}
	}
	return libs
}

// backendLoad records what loading backends did, for olm --version and for
// the message a user of --gpu-layers gets when no GPU is there.
type backendLoad struct {
	loaded []string // libraries that registered a backend
	failed []string // "path: reason"
}

var backends backendLoad // written once, under backendOnce

// loadBackends registers every GPU backend library found. Called from
// initBackend before llama_backend_init, so llama.cpp sees the devices.
func loadBackends() {
	for _, dir := range libraryDirs() {
		libs := backendLibraries(dir)
		if len(libs) == 0 {
			continue
		}
		if base, _ := filepath.Glob(filepath.Join(dir, "libggml-base.so*")); len(base) > 0 {
			cbase := C.CString(base[0])
			C.olm_route_log(cbase)
			C.free(unsafe.Pointer(cbase))
		}
		for _, lib := range libs {
			capt := captureErrors()
			clib := C.CString(lib)
			reg := C.ggml_backend_load(clib)
			C.free(unsafe.Pointer(clib))
			first := capt.done()
			if reg == nil {
				// "load_backend: failed to load P: P: file too short" -> "file too short"
				why := strings.TrimPrefix(first, "load_backend: failed to load "+lib+": ")
				why = strings.TrimPrefix(why, lib+": ")
				if why == "" {
					why = "the library did not load (run with --verbose for the loader's messages)"
				}
				backends.failed = append(backends.failed, lib+": "+why)
				continue
			}
			backends.loaded = append(backends.loaded, lib)
		}
	}
}

// freeMu serialises what frees llama contexts, so one context's release never frees the
// backends of another whose llama_free is still running.
var freeMu sync.Mutex

// freeContext frees a llama context and then its backends (see olm_init_backend).
func freeContext(c *C.struct_llama_context) {
	freeMu.Lock()
	defer freeMu.Unlock()
	C.llama_free(c)
	C.olm_release_backends()
}

// wrapDevices defers the frees of every device's backends; called once llama.cpp is set up.
func wrapDevices() { C.olm_wrap_devices() }

// releaseBackends frees the backends released since the last call; hold freeMu.
func releaseBackends() { C.olm_release_backends() }

// releaseNow frees what a load or a failed context creation released.
func releaseNow() {
	freeMu.Lock()
	defer freeMu.Unlock()
	releaseBackends()
}

// heldBackends is the number of backends alive or awaiting release, for tests.
func heldBackends() int { return int(C.olm_held_count()) }

// GPU is one accelerator device llama.cpp can offload to.
type GPU struct {
	Name        string // ggml's device name, e.g. "CUDA0"
	Description string // e.g. "NVIDIA H100 80GB HBM3"
	FreeBytes   uint64
	TotalBytes  uint64
}

func (g GPU) String() string {
	return fmt.Sprintf("%s (%s, %.1f GiB)", g.Description, g.Name, float64(g.TotalBytes)/(1<<30))
}

// GPUs lists the GPU devices of the loaded backends.
func GPUs() []GPU {
	initBackend()
	var out []GPU
	for i := C.size_t(0); i < C.ggml_backend_dev_count(); i++ {
		if C.olm_backend_is_gpu(i) == 0 {
			continue
		}
		d := C.ggml_backend_dev_get(i)
		var free, total C.size_t
		C.ggml_backend_dev_memory(d, &free, &total)
		out = append(out, GPU{
			Name:        C.GoString(C.ggml_backend_dev_name(d)),
			Description: C.GoString(C.ggml_backend_dev_description(d)),
			FreeBytes:   uint64(free), TotalBytes: uint64(total),
		})
	}
	return out
}

// Backends names the registered backends other than the CPU, comma-separated
// as llama-bench reports them ("CUDA"), or "CPU" when there are none.
func Backends() string {
	initBackend()
	var names []string
	for i := C.size_t(0); i < C.ggml_backend_reg_count(); i++ {
		n := C.GoString(C.ggml_backend_reg_name(C.ggml_backend_reg_get(i)))
		if n != "CPU" && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return "CPU"
	}
	return strings.Join(names, ",")
}

// GPUInfo is the devices' descriptions, comma-separated, as llama-bench's gpu_info.
func GPUInfo() string {
	var d []string
	for _, g := range GPUs() {
		d = append(d, g.Description)
	}
	return strings.Join(d, ", ")
}

// NoGPUReason says why --gpu-layers cannot offload, in one line, or "" when a
// GPU is there.
func NoGPUReason() string {
	if SupportsGPU() {
		return ""
	}
	if len(backends.failed) > 0 {
		return "the GPU backend did not load: " + backends.failed[0]
	}
	if len(backends.loaded) > 0 {
		return "the GPU backend loaded but found no device (is the driver installed?)"
	}
	return fmt.Sprintf("this build has no GPU backend (build one with `make cuda`, or set %s to where libggml-cuda.so is)", LibraryPathEnv)
}
