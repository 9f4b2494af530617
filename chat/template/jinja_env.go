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
	if list, ok := builtins.Filters.Get("list"); ok {
		_ = filters.Replace("list", filterPyList(list))
	}

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
		Methods:           orderedMethods(),
	}
}

// orderedMethods are gonja's methods, except that keys(), values() and items() of a dict
// that came from JSON (OrderedJSON) keep its key order, as Python's dicts do: Mistral's
// template writes a tool's fields with tool.items(), and gonja would sort them.
func orderedMethods() exec.Methods {
	m := builtins.Methods
	dict := map[string]exec.Method[map[string]any]{}
	for _, name := range []string{"get", "pop", "setdefault", "update", "copy", "clear"} {
		if f, ok := builtins.Methods.Dict.Get(name); ok {
			dict[name] = f
		}
	}
	ordered := func(name string, pick func(p *exec.Pair) any) {
		builtin, _ := builtins.Methods.Dict.Get(name)
		dict[name] = func(self map[string]any, sv *exec.Value, args *exec.VarArgs) (any, error) {
			d, ok := sv.Interface().(exec.Dict)
			if !ok || builtin == nil {
				if builtin == nil {
					return nil, fmt.Errorf("dict has no method %s", name)
				}
				return builtin(self, sv, args)
			}
			if len(args.Args) > 0 || len(args.KwArgs) > 0 {
				return nil, fmt.Errorf("%s() takes no arguments", name)
			}
			out := make([]any, 0, len(d.Pairs))
			for _, p := range d.Pairs {
				out = append(out, pick(p))
			}
			return out, nil
		}
	}
	ordered("keys", func(p *exec.Pair) any { return p.Key.Interface() })
	ordered("values", func(p *exec.Pair) any { return p.Value.Interface() })
	ordered("items", func(p *exec.Pair) any { return []any{p.Key.Interface(), p.Value.Interface()} })
	m.Dict = exec.NewMethodSet(dict)
	return m
}
