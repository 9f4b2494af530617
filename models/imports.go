package models

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Imported is a GGUF registered in place with `olm import`.
type Imported struct {
	Path  string    `json:"path"`
	Added time.Time `json:"added"`
}

const importsFile = "imports.json"

// Import registers the GGUF at path under name, without copying it, so
// `olm run NAME` uses the file where it is. Re-importing a name replaces it.
func Import(env Env, path, name string) (Imported, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return Imported{}, fmt.Errorf("import %s: %w", path, err)
	}
	// The same check run and show make: a file that cannot load is not registered.
	if err := checkModel(abs); err != nil {
		return Imported{}, fmt.Errorf("import: %w", err)
	}
	if name == "" {
		name = strings.TrimSuffix(filepath.Base(abs), filepath.Ext(abs))
	}
	if strings.ContainsAny(name, " /\\") || strings.HasPrefix(name, "ollama:") || strings.HasSuffix(strings.ToLower(name), ".gguf") {
		return Imported{}, fmt.Errorf("import: bad name %q: use letters, digits, '-', '.', '_' and ':' (e.g. my-model:q4)", name)
	}
	imps, err := loadImports(env)
	if err != nil {
		return Imported{}, err
	}
	imp := Imported{Path: abs, Added: time.Now().UTC()}
	imps[name] = imp
	if err := saveImports(env, imps); err != nil {
		return Imported{}, err
	}
	return imp, nil
}

// Unimport forgets an imported name; the file itself is never touched.
func Unimport(env Env, name string) error {
	imps, err := loadImports(env)
	if err != nil {
		return err
	}
	if _, ok := imps[name]; !ok {
		return fmt.Errorf("no imported model %q: see olm list", name)
	}
	delete(imps, name)
	return saveImports(env, imps)
}

// Imports returns the registry: name -> file.
func Imports(env Env) (map[string]Imported, error) { return loadImports(env) }

func lookupImport(env Env, name string) (Imported, bool, error) {
	imps, err := loadImports(env)
	if err != nil {
		return Imported{}, false, err
	}
	imp, ok := imps[name]
	return imp, ok, nil
}

func loadImports(env Env) (map[string]Imported, error) {
	imps := map[string]Imported{}
	if env.OlmHome == "" {
		return imps, nil
	}
	p := filepath.Join(env.OlmHome, importsFile)
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return imps, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read imports: %w", err)
	}
	if err := json.Unmarshal(b, &imps); err != nil {
		return nil, fmt.Errorf("read imports %s: %w (fix or delete the file)", p, err)
	}
	return imps, nil
}

func saveImports(env Env, imps map[string]Imported) error {
	if env.OlmHome == "" {
		return errors.New("save imports: OLM_HOME is not set")
	}
	if err := os.MkdirAll(env.OlmHome, 0o755); err != nil {
		return fmt.Errorf("save imports: %w", err)
	}
	b, err := json.MarshalIndent(imps, "", "  ")
	if err != nil {
		return fmt.Errorf("save imports: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(env.OlmHome, importsFile), append(b, '\n')); err != nil {
		return fmt.Errorf("save imports: %w", err)
	}
	return nil
}
