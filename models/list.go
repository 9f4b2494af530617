package models

import (
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Local is a model on this machine that olm can run.
type Local struct {
	Name   string // what to pass to olm run: mistral-7b-instruct-v0.2:q4_k_m, hf.co/o/r:f.gguf, my-import, ollama:llama2:latest
	Quant  string // lower case where known
	Size   int64  // all parts of a split file
	Path   string // file to load (first part)
	Source Source
}

// List returns local models: hub-cache GGUFs (named by catalog id when they
// are a catalog quant), `olm import` files and ollama's models. Sources that
// fail to read are skipped, not fatal: one broken cache must not hide the rest.
func List(env Env, cat *Catalog) ([]Local, error) {
	out := hubModels(env.Store(), cat)
	imps, err := loadImports(env)
	if err != nil {
		return out, err
	}
	for name, imp := range imps {
		l := Local{Name: name, Path: imp.Path, Source: SourceImport, Quant: strings.ToLower(quantOf(imp.Path))}
		if st, err := os.Stat(imp.Path); err == nil {
			l.Size = st.Size()
		}
		out = append(out, l)
	}
	oms, err := OllamaModels(env.OllamaModels)
	for _, m := range oms {
		out = append(out, Local{Name: "ollama:" + m.Name, Path: m.Path, Size: m.Size, Source: SourceOllama})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Source != out[j].Source {
			return out[i].Source < out[j].Source
		}
		return out[i].Name < out[j].Name
	})
	return out, err
}

// hubModels scans models--*/snapshots/*/ for GGUFs whose blobs are present.
func hubModels(store Store, cat *Catalog) []Local {
	dirs, _ := filepath.Glob(filepath.Join(store.Root, "models--*"))
	var out []Local
	for _, d := range dirs {
		repo := strings.Replace(strings.TrimPrefix(filepath.Base(d), "models--"), "--", "/", 1)
		var m *Model
		if cat != nil {
			m, _ = cat.ByRepo(repo)
		}
		seen := map[string]bool{}
		for _, snap := range snapshotsNewestRefFirst(store, repo) {
			files, err := store.SnapshotFiles(repo, snap)
			if err != nil {
				continue
			}
			for _, f := range files {
				if seen[f] || !strings.HasSuffix(strings.ToLower(f), ".gguf") {
					continue
				}
				parts, _ := splitParts(repo, files, f)
				if len(parts) == 0 || parts[0] != f {
					continue // later parts are listed with the first
				}
				seen[f] = true
				l, ok := localHubFile(store, repo, snap, parts, m)
				if ok {
					out = append(out, l)
				}
			}
		}
	}
	return out
}

// snapshotsNewestRefFirst orders commits so the one refs/main names wins
// when the same file sits in several snapshots.
func snapshotsNewestRefFirst(store Store, repo string) []string {
	ents, _ := os.ReadDir(filepath.Join(store.RepoDir(repo), "snapshots"))
	main, _ := store.Commit(repo, "main")
	var out []string
	for _, e := range ents {
		if e.IsDir() && e.Name() != main {
			out = append(out, e.Name())
		}
	}
	if main != "" {
		if _, err := os.Stat(filepath.Join(store.RepoDir(repo), "snapshots", main)); err == nil {
			out = append([]string{main}, out...)
		}
	}
	return out
}

func localHubFile(store Store, repo, commit string, parts []string, m *Model) (Local, bool) {
	var size int64
	for _, p := range parts {
		st, err := os.Stat(store.SnapshotPath(repo, commit, p)) // follows the link
		if err != nil {
			return Local{}, false // dangling or a part missing: not runnable
		}
		size += st.Size()
	}
	l := Local{
		Name:   "hf.co/" + repo + ":" + path.Base(parts[0]),
		Quant:  strings.ToLower(quantOf(parts[0])),
		Size:   size,
		Path:   store.SnapshotPath(repo, commit, parts[0]),
		Source: SourceHF,
	}
	if m != nil {
		for q, f := range m.Files {
			if f.Name == parts[0] {
				l.Name, l.Quant, l.Source = m.ID+":"+q, q, SourceCatalog
			}
		}
	}
	return l, true
}

// CatalogRow is one quant of one catalog model, for `olm catalog`.
type CatalogRow struct {
	Name       string // id:quant
	Model      *Model
	Quant      string
	File       string
	Size       int64 // exact when the facts give it, else approximate, else 0
	SizeApprox bool
	Default    bool   // the quant the bare id or alias pulls
	Local      bool   // present in the hub cache
	Path       string // when Local
}

// Rows lists every catalog quant in catalog order, marking those present in store.
func (c *Catalog) Rows(store Store) []CatalogRow {
	var rows []CatalogRow
	for _, m := range c.Models {
		for _, q := range m.Quants() {
			f := m.Files[q]
			r := CatalogRow{Name: m.ID + ":" + q, Model: m, Quant: q, File: f.Name,
				Size: f.Size, Default: q == m.DefaultQuant}
			if r.Size == 0 && f.ApproxSize > 0 {
				r.Size, r.SizeApprox = f.ApproxSize, true
			}
			if p, err := store.Lookup(m.Repo, m.Rev(), f.Name); err == nil {
				r.Local, r.Path = true, p
				if st, err := os.Stat(p); err == nil && r.Size == 0 {
					r.Size, r.SizeApprox = st.Size(), false
				}
			}
			rows = append(rows, r)
		}
	}
	return rows
}
