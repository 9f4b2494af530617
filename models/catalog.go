package models

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/olm-dev/olm/synth"
)

// catalogJSON is the curated list of covered models. It is data, not code, so a
// reviewer can diff it against the published facts line by line.
//
//go:embed catalog.json
var catalogJSON []byte

// Templates are the prompt template names a catalog entry may use; the chat
// layer owns their text.
var Templates = []string{"llama2", "elyza", "mistral-instruct", "falcon", "oasst",
	"gpt4all", "zephyr", "chatml", "tulu", "openmath", "none"}

// File is one quantization of a catalog model. Size and SHA256 are a
// cross-check only (zero/empty when not confirmed); Hugging Face is the
// authority at download time.
type File struct {
	Name       string `json:"file"`
	Size       int64  `json:"size,omitempty"`
	ApproxSize int64  `json:"approx_size,omitempty"` // from listings like "~25.5 GB"; never used to verify
	SHA256     string `json:"sha256,omitempty"`
}

// Model is one catalog entry.
type Model struct {
	ID           string          `json:"id"`
	Aliases      []string        `json:"aliases"`
	Description  string          `json:"description"`
	License      string          `json:"license"`
	Repo         string          `json:"repo"`
	Revision     string          `json:"revision,omitempty"` // empty means "main"
	Arch         string          `json:"arch"`
	Context      int             `json:"context"`
	Template     string          `json:"template"`
	ShapeName    string          `json:"shape,omitempty"` // a synth.Shape family: the tensor shapes live there alone
	DefaultQuant string          `json:"default_quant"`
	Files        map[string]File `json:"files"`
	Notes        string          `json:"notes,omitempty"`
}

// Spec returns the tensor shapes of the model, for a synthetic benchmark model; false when
// the catalog knows none.
func (m *Model) Spec() (synth.Spec, bool) {
	if m.ShapeName == "" {
		return synth.Spec{}, false
	}
	return synth.Shape(m.ShapeName)
}

// Rev returns the revision to fetch, defaulting to main.
func (m *Model) Rev() string {
	if m.Revision == "" {
		return "main"
	}
	return m.Revision
}

// Quants returns the model's quantization tags, sorted.
func (m *Model) Quants() []string {
	qs := make([]string, 0, len(m.Files))
	for q := range m.Files {
		qs = append(qs, q)
	}
	sort.Strings(qs)
	return qs
}

// Catalog is the parsed, indexed catalog. It is immutable after Load.
type Catalog struct {
	Models []*Model
	byName map[string]*Model // ids and aliases, lower case
}

// LoadCatalog parses the embedded catalog.
func LoadCatalog() (*Catalog, error) {
	return parseCatalog(catalogJSON)
}

func parseCatalog(data []byte) (*Catalog, error) {
	var raw struct {
		Models []*Model `json:"models"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	c := &Catalog{Models: raw.Models, byName: map[string]*Model{}}
	for _, m := range raw.Models {
		if err := m.check(); err != nil {
			return nil, fmt.Errorf("catalog: %s: %w", m.ID, err)
		}
		if _, ok := m.Spec(); m.ShapeName != "" && !ok {
			return nil, fmt.Errorf("catalog: %s: unknown shape %q", m.ID, m.ShapeName)
		}
		for _, n := range append([]string{m.ID}, m.Aliases...) {
			k := strings.ToLower(n)
			if other, dup := c.byName[k]; dup {
				return nil, fmt.Errorf("catalog: name %q used by both %s and %s", n, other.ID, m.ID)
			}
			c.byName[k] = m
		}
	}
	return c, nil
}

// check reports the first missing or malformed field of an entry.
func (m *Model) check() error {
	switch {
	case m.ID == "" || strings.ContainsAny(m.ID, ":/ "):
		return fmt.Errorf("bad id %q", m.ID)
	case m.Description == "", m.License == "", m.Arch == "":
		return fmt.Errorf("description, license and arch are required")
	case strings.Count(m.Repo, "/") != 1:
		return fmt.Errorf("repo %q is not OWNER/NAME", m.Repo)
	case m.Context <= 0:
		return fmt.Errorf("context length missing")
	case !slices.Contains(Templates, m.Template):
		return fmt.Errorf("template %q is not one of %s", m.Template, strings.Join(Templates, ", "))
	case len(m.Files) == 0:
		return fmt.Errorf("no files")
	}
	if _, ok := m.Files[m.DefaultQuant]; !ok {
		return fmt.Errorf("default quant %q has no file", m.DefaultQuant)
	}
	for q, f := range m.Files {
		if q != strings.ToLower(q) || !strings.HasSuffix(f.Name, ".gguf") {
			return fmt.Errorf("quant %q: want a lower-case tag and a .gguf file", q)
		}
		if f.SHA256 != "" && !isHex(f.SHA256, 64) {
			return fmt.Errorf("quant %q: sha256 %q is not 64 hex digits", q, f.SHA256)
		}
	}
	return nil
}

// Lookup finds a model by id or alias, case-insensitively.
func (c *Catalog) Lookup(name string) (*Model, bool) {
	m, ok := c.byName[strings.ToLower(name)]
	return m, ok
}

// ByRepo finds the catalog model published in an HF repo, so hf.co references
// to a catalog repo still get its template and expected hashes.
func (c *Catalog) ByRepo(repo string) (*Model, bool) {
	for _, m := range c.Models {
		if strings.EqualFold(m.Repo, repo) {
			return m, true
		}
	}
	return nil, false
}

// Names returns every id and alias, for suggestions.
func (c *Catalog) Names() []string {
	ns := make([]string, 0, len(c.byName))
	for n := range c.byName {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return ns
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdef", r) {
			return false
		}
	}
	return true
}
