package models

import (
	"fmt"
	"strings"

	parser "github.com/gpustack/gguf-parser-go"

	"github.com/olm-dev/olm/gguf"
)

// checkModel is gguf.CheckModel: olm's one GGUF check, on every part of a split model.
func checkModel(path string) error {
	_, err := gguf.CheckModel(path)
	return err
}

// parseInfo reads a checked file's metadata with gguf-parser-go (all parts of a split file).
func parseInfo(path, name string) (Info, error) {
	return guardParser(name, func() (Info, error) {
		gf, err := parser.ParseGGUFFile(path)
		if err != nil {
			return Info{}, fmt.Errorf("%s: %w", name, err)
		}
		return infoOf(gf), nil
	})
}

// guardParser runs parse, turning a panic into an error naming the file. The check refuses
// what gguf-parser-go is known to choke on; whatever it still raises must not crash olm.
func guardParser(name string, parse func() (Info, error)) (info Info, err error) {
	defer func() {
		if r := recover(); r != nil {
			msg := strings.Join(strings.Fields(fmt.Sprint(r)), " ")
			info, err = Info{}, fmt.Errorf("%s: %w: the GGUF parser failed on it (%s); the file is damaged", name, gguf.ErrCorrupt, msg)
		}
	}()
	return parse()
}
