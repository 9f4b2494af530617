//go:build !unix

package gguf

import "os"

func openNonBlocking(path string) (*os.File, error) { return os.Open(path) }
