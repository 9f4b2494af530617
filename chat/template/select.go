package template

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// Options are what the caller knows about a model when choosing its template.
type Options struct {
	// Override is --template: a built-in name (or alias) or a Jinja file path.
	Override string
	// GGUFTemplate is tokenizer.chat_template from the GGUF ("" if absent).
	GGUFTemplate string
	// CatalogTemplate is the catalog's template name for the model ("" if none).
	CatalogTemplate string
	// CatalogFirst says the catalog knows the GGUF's own template is wrong,
	// so CatalogTemplate wins over it.
	CatalogFirst bool
	// Architecture is general.architecture, used by the heuristic.
	Architecture string
	// Tokens are the BOS/EOS texts passed to Jinja templates.
	Tokens Tokens
}

// Source says where a chosen template came from.
type Source string

// Sources, in the order Select consults them.
const (
	SourceOverride  Source = "override"  // --template
	SourceGGUF      Source = "gguf"      // the model's own Jinja template
	SourceCatalog   Source = "catalog"   // the catalog's named built-in
	SourceHeuristic Source = "heuristic" // a family recognised from the Jinja text or architecture
	SourceFallback  Source = "fallback"  // nothing known: plain completion
)

// Reason explains a Select decision.
type Reason struct {
	Source   Source
	Template string   // the chosen template's Name()
	Detail   string   // why it was chosen
	Notes    []string // candidates passed over, and caveats of the chosen one
}

// String is the explanation shown to users.
func (r Reason) String() string {
	s := fmt.Sprintf("%s (%s): %s", r.Template, r.Source, r.Detail)
	for _, n := range r.Notes {
		s += "\n  note: " + n
	}
	return s
}

// Select picks the template for a model: --template first; then the GGUF's
// own Jinja template if it renders; then the catalog's named built-in; then
// a family recognised from the Jinja text or architecture; else plain
// completion. With CatalogFirst the catalog comes before the GGUF template.
// Only a bad --template is an error; other unusable candidates are skipped
// and noted in the Reason.
func Select(opts Options) (Template, Reason, error) {
	if strings.TrimSpace(opts.Override) != "" {
		return selectOverride(opts)
	}
	var notes []string
	steps := []func(*[]string) (Template, Reason, bool){
		opts.fromGGUF, opts.fromCatalog,
	}
	if opts.CatalogFirst {
		steps[0], steps[1] = steps[1], steps[0]
		if opts.GGUFTemplate != "" && opts.CatalogTemplate != "" {
			notes = append(notes, "the catalog marks this model's embedded chat template as wrong")
		}
	}
	steps = append(steps, opts.fromHeuristic)
	for _, step := range steps {
		if t, r, ok := step(&notes); ok {
			r.Notes = append(notes, r.Notes...)
			return t, r, nil
		}
	}
	t, _ := LookupBuiltin("none")
	return t, Reason{Source: SourceFallback, Template: t.Name(), Notes: notes,
		Detail: "no chat template known for this model; its input is sent as plain text (base-model completion)"}, nil
}

func selectOverride(opts Options) (Template, Reason, error) {
	name := strings.TrimSpace(opts.Override)
	if t, ok := LookupBuiltin(name); ok {
		return t, Reason{Source: SourceOverride, Template: t.Name(),
			Detail: fmt.Sprintf("--template %s: built-in %q", name, t.Name())}, nil
	}
	src, err := os.ReadFile(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, Reason{}, fmt.Errorf("--template %q: neither a built-in (%s) nor an existing file", name, strings.Join(BuiltinNames(), ", "))
		}
		return nil, Reason{}, fmt.Errorf("--template: read %w", err)
	}
	j, err := NewJinja(name, string(src), opts.Tokens)
	if err != nil {
		return nil, Reason{}, fmt.Errorf("--template: %w", err)
	}
	r := Reason{Source: SourceOverride, Template: j.Name(), Detail: fmt.Sprintf("--template %s: Jinja file", name)}
	r.Notes = probeNotes(j)
	return j, r, nil
}

func (opts Options) fromGGUF(notes *[]string) (Template, Reason, bool) {
	if strings.TrimSpace(opts.GGUFTemplate) == "" {
		return nil, Reason{}, false
	}
	j, err := NewJinja("gguf", opts.GGUFTemplate, opts.Tokens)
	if err == nil {
		_, err = j.Render([]Message{{Role: RoleUser, Content: "Hello"}}, true)
	}
	if err != nil {
		*notes = append(*notes, fmt.Sprintf("the GGUF's chat template is unusable: %v", err))
		return nil, Reason{}, false
	}
	return j, Reason{Source: SourceGGUF, Template: j.Name(), Notes: probeNotes(j),
		Detail: "the model's own chat template (GGUF tokenizer.chat_template), rendered as Hugging Face does"}, true
}

func (opts Options) fromCatalog(notes *[]string) (Template, Reason, bool) {
	name := strings.TrimSpace(opts.CatalogTemplate)
	if name == "" {
		return nil, Reason{}, false
	}
	t, ok := LookupBuiltin(name)
	if !ok {
		*notes = append(*notes, fmt.Sprintf("the catalog names an unknown template %q", name))
		return nil, Reason{}, false
	}
	return t, Reason{Source: SourceCatalog, Template: t.Name(),
		Detail: fmt.Sprintf("the catalog names %q for this model", name)}, true
}

func (opts Options) fromHeuristic(_ *[]string) (Template, Reason, bool) {
	name, why := detectFamily(opts.GGUFTemplate, opts.Architecture)
	if name == "" {
		return nil, Reason{}, false
	}
	t, _ := LookupBuiltin(name)
	return t, Reason{Source: SourceHeuristic, Template: t.Name(), Detail: why}, true
}

// probeNotes warns about templates that will refuse common conversations
// or cannot keep user text apart from special tokens.
func probeNotes(j *Jinja) []string {
	var notes []string
	p, err := j.Render([]Message{{Role: RoleSystem, Content: "Be brief."}, {Role: RoleUser, Content: "Hello"}}, true)
	var raised *RaisedError
	switch {
	case errors.As(err, &raised):
		notes = append(notes, fmt.Sprintf("this template rejects a system prompt (%q)", raised.Message))
	case err != nil:
		notes = append(notes, fmt.Sprintf("this template fails with a system prompt: %v", err))
	case p.Unprotected:
		notes = append(notes, "this template transforms message contents, so special tokens typed in them are not neutralised")
	}
	return notes
}
