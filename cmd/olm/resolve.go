package main

import (
	"context"
)

// resolvedModel is what a command needs to run a model: the file, and what the catalog
// knows about it (empty for a plain path).
type resolvedModel struct {
	Path     string // the GGUF file (first split for split models)
	Name     string // the name the user gave, or the catalog id
	Template string // the catalog's prompt template name, "" if unknown
}

// resolveModel turns a model name or path into a local file, pulling it when missing.
// For now it accepts only paths; names come with the models package.
func resolveModel(ctx context.Context, ios *ioStreams, name string) (resolvedModel, error) {
	return resolvedModel{Path: name, Name: name}, nil
}
