package models

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrNotGGUF means a file does not start with the GGUF magic.
var ErrNotGGUF = errors.New("not a GGUF file")

// checkGGUF reads the first four bytes, so a wrong file fails with a clear
// message instead of a parser error deep in llama.cpp.
func checkGGUF(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open model: %w", err)
	}
	defer f.Close()
	var magic [4]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil || !bytes.Equal(magic[:], []byte("GGUF")) {
		hint := "convert it with llama.cpp's convert_hf_to_gguf.py, or download a GGUF build"
		if bytes.Equal(magic[:], []byte("fmgg")) || bytes.Equal(magic[:], []byte("tjgg")) || bytes.Equal(magic[:], []byte("lmgg")) {
			hint = "it is an old GGML file: download a GGUF build of the model"
		}
		return fmt.Errorf("%s: %w: %s", path, ErrNotGGUF, hint)
	}
	return nil
}
