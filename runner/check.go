package runner

import "github.com/olm-dev/olm/gguf"

// CheckGGUF runs olm's one GGUF check (package gguf) on the file and every part of a split
// model, so that bad input gets a clear error instead of reaching llama.cpp's asserts (or
// blocking it in open), and returns the GGUF version. Errors wrap
// gguf.ErrNotGGUF, gguf.ErrCorrupt, gguf.ErrUnsupported, gguf.ErrNotRegular or
// fs.ErrNotExist.
func CheckGGUF(path string) (int, error) {
	h, err := gguf.CheckModel(path)
	return h.Version, err
}
