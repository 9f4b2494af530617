// Package gguf is olm's one GGUF validity check: it reads a file's header, metadata and
// tensor infos, bounded by the file's size, and accepts only what llama.cpp can load and
// gguf-parser-go can parse without panicking. It is pure Go (no cgo) so that runner, which
// links llama.cpp, and models, which must not, share it.
package gguf

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// Kinds of bad file, for errors.Is. Every error from this package wraps one of them or
// fs.ErrNotExist.
var (
	ErrNotGGUF     = errors.New("not a GGUF file")
	ErrCorrupt     = errors.New("corrupt GGUF file")
	ErrUnsupported = errors.New("unsupported GGUF file")
	ErrNotRegular  = errors.New("not a regular file")
)

// kindError carries a one-line message that says what to do, and its kind.
type kindError struct {
	kind error
	msg  string
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }

func kindErr(kind error, format string, args ...any) error {
	return &kindError{kind, fmt.Sprintf(format, args...)}
}

// pathError puts the file's name in front of a message that lacks it.
type pathError struct {
	path string
	err  error
}

func (e *pathError) Error() string { return e.path + ": " + e.err.Error() }
func (e *pathError) Unwrap() error { return e.err }

// Check validates the GGUF file at path (see Validate). It refuses what is not a regular
// file before opening it, since opening a FIFO blocks until someone writes to it.
func Check(path string) (Header, error) {
	if _, err := Stat(path); err != nil {
		return Header{}, err
	}
	f, err := openNonBlocking(path)
	if err != nil {
		return Header{}, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat() // the path may have been swapped since Stat
	if err != nil {
		return Header{}, fmt.Errorf("%s: %w", path, err)
	}
	if err := regular(path, st); err != nil {
		return Header{}, err
	}
	h, err := Validate(f, st.Size())
	if err != nil {
		return Header{}, &pathError{path, err}
	}
	return h, nil
}

// Stat is os.Stat with errors that name the problem and the fix: a missing file, a broken
// or looping symlink, a directory, or something that is not a regular file.
func Stat(path string) (fs.FileInfo, error) {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, syscall.ELOOP):
		return nil, &pathError{path, &kindError{err, "symlink loop (a link that leads back to itself); point the link at the .gguf file"}}
	case errors.Is(err, fs.ErrNotExist):
		if lst, lerr := os.Lstat(path); lerr == nil && lst.Mode()&fs.ModeSymlink != 0 {
			target, _ := os.Readlink(path)
			return nil, &pathError{path, &kindError{err, fmt.Sprintf("a symlink to %s, which does not exist; fix the link or give the .gguf file", target)}}
		}
		return nil, &pathError{path, &kindError{err, "no such file (give a path to a .gguf file or a model name)"}}
	case err != nil:
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return st, regular(path, st)
}

func regular(path string, st fs.FileInfo) error {
	m := st.Mode()
	if m.IsRegular() {
		return nil
	}
	what := "not a regular file"
	switch {
	case m.IsDir():
		return &pathError{path, &kindError{ErrNotRegular, "is a directory, not a GGUF file (give the path of the .gguf file inside it)"}}
	case m&fs.ModeNamedPipe != 0:
		what = "a FIFO (named pipe)"
	case m&fs.ModeSocket != 0:
		what = "a socket"
	case m&fs.ModeDevice != 0:
		what = "a device"
	}
	return &pathError{path, &kindError{ErrNotRegular, "is " + what + ", not a GGUF file: olm reads models from regular files; give the path of the .gguf file"}}
}

// notGGUF builds the error for a file without the GGUF magic, saying what it looks like.
func notGGUF(b []byte) error {
	return kindErr(ErrNotGGUF, "%v (%s); olm runs GGUF models, convert it with llama.cpp's convert_hf_to_gguf.py or download a GGUF build",
		ErrNotGGUF, describeMagic(b))
}

// describeMagic names what a non-GGUF file looks like, so the error helps.
func describeMagic(b []byte) string {
	switch {
	case len(b) == 0:
		return "the file is empty"
	case bytes.HasPrefix(b, []byte("\x89PNG")):
		return "it is a PNG image"
	case bytes.HasPrefix(b, []byte("PK\x03\x04")):
		return "it is a zip archive"
	case bytes.HasPrefix(b, []byte("\x80")) && len(b) > 1 && b[1] <= 5:
		return "it looks like a PyTorch pickle; convert it to GGUF"
	}
	// GGML's old magics are uint32s, so on disk they read backwards ("tjgg" for ggjt).
	for _, m := range []string{"ggjt", "ggml", "ggmf", "ggla"} {
		rev := []byte{m[3], m[2], m[1], m[0]}
		if bytes.HasPrefix(b, []byte(m)) || bytes.HasPrefix(b, rev) {
			return "it is an old GGML/GGJT model; download a GGUF build or convert it to GGUF"
		}
	}
	switch {
	case bytes.HasPrefix(b, []byte("{")):
		return "it looks like JSON"
	case bytes.HasPrefix(b, []byte("version https://git-lfs")):
		return "it is a Git LFS pointer, not the model itself"
	}
	for _, c := range b {
		if c < 0x09 || (c > 0x0d && c < 0x20) {
			return fmt.Sprintf("starts with bytes % x", b[:min(len(b), 4)])
		}
	}
	return "it looks like a text file"
}
