# olm's build. One `make` links llama.cpp's headers into third_party/ and builds bin/olm;
# after that, plain `go build/test/vet ./...` work too.

OLLAMA_MOD := github.com/ollama/ollama
GO ?= go

# ggml needs both flags to reach llama-bench speed (../shared/anchors.md): -march=native for
# the AVX2/AVX-512 kernels, GGML_USE_CPU_REPACK for the interleaved weight layouts.
ifeq ($(PORTABLE),1)
  ARCH_FLAGS := $(if $(filter aarch64 arm64,$(shell uname -m)),-march=armv8-a,-march=x86-64-v2)
  BIN := bin/olm-portable
else
  ARCH_FLAGS := -march=native
  BIN := bin/olm
endif
export CGO_ENABLED := 1
export CGO_CFLAGS := -O3 $(ARCH_FLAGS)
export CGO_CXXFLAGS := -O3 $(ARCH_FLAGS)
export CGO_CPPFLAGS := -DGGML_USE_CPU_REPACK

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X 'github.com/olm-dev/olm/runner.BuildFlags=$(CGO_CFLAGS) $(CGO_CPPFLAGS)' \
           -X github.com/olm-dev/olm/runner.Version=$(VERSION)

# make run chats with a small catalog model (pulled on first use); make run MODEL=mistral.
MODEL ?= qwen2.5-0.5b-instruct

.PHONY: all build headers test run bench cuda clean
all: build

# cgo cannot find llama.h inside the module cache on its own; a link in third_party/ points
# there. Re-linked only when the pinned module moves. Without Go (a GPU box running make cuda
# on a copied tree), a third_party/ollama already there is used as it is.
headers:
	@[ -f /usr/include/nlohmann/json.hpp ] || [ -f /usr/local/include/nlohmann/json.hpp ] || \
		{ echo "make: the nlohmann/json headers are missing (llama.cpp's JSON Schema converter needs them): apt-get install nlohmann-json3-dev"; exit 1; }
	@if [ -d third_party/ollama ] && ! command -v $(GO) >/dev/null; then exit 0; fi; \
	dir="$$($(GO) list -m -f '{{.Dir}}' $(OLLAMA_MOD))"; \
	if [ -z "$$dir" ]; then $(GO) mod download $(OLLAMA_MOD) && dir="$$($(GO) list -m -f '{{.Dir}}' $(OLLAMA_MOD))"; fi; \
	if [ "$$(readlink third_party/ollama)" != "$$dir" ]; then \
		ln -sfn "$$dir" third_party/ollama && echo "linked third_party/ollama -> $$dir"; fi

build: headers
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/olm

# The engine's scheduler and the server are concurrent Go: their tests run under -race too
# (a second build of llama.cpp's packages, a few minutes cold).
test: headers
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...
	$(GO) test -count=1 -race -timeout 20m ./engine ./server

run: build
	./$(BIN) chat $(MODEL)

# make cuda builds ggml's CUDA backend from the same ggml sources, with CMake and nvcc (the
# CUDA toolkit), into lib/olm/, where bin/olm loads it at start (OLM_LIBRARY_PATH overrides).
# It takes minutes per GPU generation: CUDA_ARCH=native builds for the GPUs in this machine,
# e.g. CUDA_ARCH="86;89" for others. The build goes in build/cuda; run it again to update.
CUDA_ARCH ?= native
CUDA_BUILD := build/cuda
cuda: headers
	@PATH="$$PATH:/usr/local/cuda/bin" command -v nvcc >/dev/null || \
		{ echo "make cuda: nvcc not found: install the CUDA toolkit and put its bin/ on PATH"; exit 1; }
	PATH="$$PATH:/usr/local/cuda/bin" cmake -S third_party/ollama -B $(CUDA_BUILD) -DCMAKE_BUILD_TYPE=Release \
		-DCMAKE_CUDA_ARCHITECTURES="$(CUDA_ARCH)" -DCMAKE_BUILD_RPATH_USE_ORIGIN=ON \
		-DCMAKE_DISABLE_FIND_PACKAGE_Vulkan=ON $(if $(shell command -v ninja),-G Ninja)
	PATH="$$PATH:/usr/local/cuda/bin" cmake --build $(CUDA_BUILD) --target ggml-cuda --parallel
	mkdir -p lib/olm
	cp -P $(CUDA_BUILD)/lib/ollama/libggml-cuda.so $(CUDA_BUILD)/lib/ollama/libggml-base.so* lib/olm/
	@echo "built lib/olm/libggml-cuda.so; check with: ./$(BIN) --version"

clean:
	rm -rf bin lib build third_party/ollama
