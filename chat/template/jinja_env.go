package template

import (
	"fmt"

	"github.com/nikolalohinski/gonja/v2/builtins"
	"github.com/nikolalohinski/gonja/v2/config"
	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/loaders"
)

// jinjaRoot names the template inside its in-memory loader.
const jinjaRoot = "/chat_template"

// compileJinja parses source with the settings Hugging Face's
// apply_chat_template uses: trim_blocks and lstrip_blocks on, a single
// trailing newline dropped. Each template gets its own environment, so the
// shims added here never touch gonja's package-level defaults.
func compileJinja(source string) (*exec.Template, error) {
	cfg := config.New()
	cfg.TrimBlocks = true
	cfg.LeftStripBlocks = true
	cfg.KeepTrailingNewline = false

	loader, err := loaders.NewMemoryLoader(map[string]string{jinjaRoot: source})
	if err != nil {
		return nil, fmt.Errorf("jinja loader: %w", err)
	}
	tmpl, err := exec.NewTemplate(jinjaRoot, cfg, loader, newEnvironment())
	if err != nil {
		return nil, fmt.Errorf("parse jinja: %w", err)
	}
	return tmpl, nil
}

func newEnvironment() *exec.Environment {
	filters := exec.NewFilterSet(map[string]exec.FilterFunction{}).Update(builtins.Filters)
	// gonja's tojson is Go's compact encoding; HF's is Python's json.dumps.
	_ = filters.Replace("tojson", filterPyJSON)

	globals := exec.EmptyContext().
		Update(builtins.GlobalFunctions).
		Update(builtins.GlobalVariables).
		Update(exec.NewContext(map[string]any{
			"strftime_now": strftimeNow,
		}))

	return &exec.Environment{
		Context:           globals,
		Filters:           filters,
		Tests:             builtins.Tests,
		ControlStructures: builtins.ControlStructures,
		Methods:           builtins.Methods,
	}
}
