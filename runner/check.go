package runner

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// ErrNotGGUF marks files that are not GGUF models at all.
var ErrNotGGUF = errors.New("not a GGUF file")

// CheckGGUF does the cheap checks that llama.cpp would otherwise turn into an abort or an
// unhelpful message: the path is a readable regular file that starts with a GGUF v2/v3
// header. It returns the GGUF version.
func CheckGGUF(path string) (int, error) {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return 0, fmt.Errorf("%s: no such file (give a path to a .gguf file or a model name)", path)
	case err != nil:
		return 0, fmt.Errorf("%s: %w", path, err)
	case st.IsDir():
		return 0, fmt.Errorf("%s is a directory, not a GGUF file (give the path of the .gguf file inside it)", path)
	case !st.Mode().IsRegular():
		return 0, fmt.Errorf("%s is not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	var hdr [24]byte // magic, version, tensor count, kv count
	n, err := io.ReadFull(f, hdr[:])
	if n < 4 || !bytes.Equal(hdr[:4], []byte("GGUF")) {
		return 0, fmt.Errorf("%s: %w (%s); olm runs GGUF models, convert it with llama.cpp's convert_hf_to_gguf.py",
			path, ErrNotGGUF, describeMagic(hdr[:n]))
	}
	if err != nil {
		return 0, fmt.Errorf("%s: truncated GGUF header (%d bytes); download the file again", path, st.Size())
	}
	version := int(binary.LittleEndian.Uint32(hdr[4:8]))
	if version < 2 || version > 3 {
		return 0, fmt.Errorf("%s: GGUF version %d is not supported (llama.cpp reads versions 2 and 3)", path, version)
	}
	tensors := binary.LittleEndian.Uint64(hdr[8:16])
	kvs := binary.LittleEndian.Uint64(hdr[16:24])
	// Each tensor or key takes at least a dozen bytes; counts beyond the file's size mean a
	// damaged header, which llama.cpp would try to allocate for.
	if tensors > uint64(st.Size())/8 || kvs > uint64(st.Size())/8 {
		return 0, fmt.Errorf("%s: corrupt GGUF header (%d tensors, %d keys in %d bytes); download the file again",
			path, tensors, kvs, st.Size())
	}
	return version, nil
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
	case bytes.HasPrefix(b, []byte("ggjt")), bytes.HasPrefix(b, []byte("ggml")), bytes.HasPrefix(b, []byte("lmgg")):
		return "it is an old GGML/GGJT model; convert it to GGUF"
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
