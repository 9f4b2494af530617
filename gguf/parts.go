package gguf

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// Parts returns the paths of every part of a split model when path names one part
// ("PREFIX-00001-of-00003.gguf", the naming llama.cpp's gguf-split writes and both llama.cpp
// and gguf-parser-go follow to open the siblings), or just path otherwise.
func Parts(path string) []string {
	dir, name := filepath.Split(path)
	rest, ok := strings.CutSuffix(name, ".gguf")
	if !ok || len(rest) < len("-00001-of-00001") {
		return []string{path}
	}
	tail := rest[len(rest)-len("-00001-of-00001"):]
	prefix := rest[:len(rest)-len(tail)]
	k, err1 := strconv.Atoi(tail[1:6])
	n, err2 := strconv.Atoi(tail[10:])
	if err1 != nil || err2 != nil || tail[0] != '-' || tail[6:10] != "-of-" || k < 1 || n < k {
		return []string{path}
	}
	parts := make([]string, n)
	for i := range parts {
		parts[i] = filepath.Join(dir, fmt.Sprintf("%s-%05d-of-%05d.gguf", prefix, i+1, n))
	}
	return parts
}

// CheckModel runs Check on the file at path and, when it names a part of a split model, on
// every part: llama.cpp and gguf-parser-go open the siblings themselves, so each must be
// known to be a sound regular file first. It returns the header of the file at path.
func CheckModel(path string) (Header, error) {
	h, err := Check(path)
	if err != nil {
		return Header{}, err
	}
	for _, p := range Parts(path) {
		if p == filepath.Clean(path) {
			continue
		}
		if _, err := Check(p); err != nil {
			return Header{}, err
		}
	}
	return h, nil
}
