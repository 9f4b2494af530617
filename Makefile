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

.PHONY: all build headers test run bench clean
all: build

# cgo cannot find llama.h inside the module cache on its own; a link in third_party/ points there.
headers: third_party/ollama
third_party/ollama: go.mod
	@$(GO) mod download $(OLLAMA_MOD)
	@ln -sfn "$$($(GO) list -m -f '{{.Dir}}' $(OLLAMA_MOD))" $@
	@echo "linked $@ -> $$(readlink $@)"

build: headers
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/olm

test: headers
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...

run: build
	./$(BIN) chat $(MODEL)

clean:
	rm -rf bin third_party/ollama
