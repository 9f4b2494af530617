package runner

import "github.com/olm-dev/olm/gguf"

// CheckGGUF runs olm's one GGUF check (package gguf) so that bad input gets a clear error
// instead of reaching llama.cpp's asserts, and returns the GGUF version. Errors wrap
// gguf.ErrNotGGUF, gguf.ErrCorrupt, gguf.ErrUnsupported, gguf.ErrNotRegular or
// fs.ErrNotExist.
func CheckGGUF(path string) (int, error) {
	h, err := gguf.Check(path)
	return h.Version, err
}
