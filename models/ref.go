package models

// Source says where a model reference points.
type Source string

const (
	SourceCatalog Source = "catalog" // a catalog entry, fetched from its HF repo
	SourceHF      Source = "hf"      // any Hugging Face GGUF repo
	SourceFile    Source = "file"    // a .gguf path given on the command line
	SourceImport  Source = "import"  // a file registered with `olm import`
	SourceOllama  Source = "ollama"  // a blob pulled by ollama, used in place
)

// Ref is a resolved model name: enough to find the file locally or fetch it.
type Ref struct {
	Name   string // canonical name, e.g. "mistral-7b-instruct-v0.2:q4_k_m"
	Source Source

	// Model is the catalog entry (also set for hf refs into a catalog repo):
	// template, context length, expected hashes.
	Model *Model

	// Repo files, for SourceCatalog and SourceHF.
	Repo     string   // OWNER/NAME
	Revision string   // branch, tag or commit; "main" by default
	Quant    string   // quant tag as written in the name or file, "" if unknown
	Files    []string // repo paths; several for a split GGUF, first part first
	Expect   *File    // catalog cross-check for a single-file quant, or nil
	// Warnings from resolving (e.g. unsafe names skipped in the listing);
	// Pull reports them as PhaseWarning events.
	Warnings []string

	// Path of the local file, for SourceFile, SourceImport and SourceOllama
	// (for a split GGUF, its first part).
	Path string
}

// Remote reports whether the ref names repo files rather than a local path.
func (r Ref) Remote() bool { return r.Source == SourceCatalog || r.Source == SourceHF }
