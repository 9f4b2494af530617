package models

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Removed reports what a removal deleted.
type Removed struct {
	Links []string // snapshot entries removed
	Blobs []string // blobs deleted
	Kept  []string // blobs kept because another snapshot still links them
	Freed int64    // bytes freed on disk
}

// Remove deletes a model the way the user named it: hub-cache files lose
// their snapshot links (and blobs nobody else links); imports are forgotten,
// never deleted; other tools' files are left to those tools.
func Remove(env Env, ref Ref) (Removed, error) {
	switch ref.Source {
	case SourceCatalog, SourceHF:
		r, err := env.Store().Remove(ref.Repo, ref.Revision, ref.Files)
		if err != nil {
			return r, fmt.Errorf("remove %s: %w", ref.Name, err)
		}
		return r, nil
	case SourceImport:
		if err := Unimport(env, ref.Name); err != nil {
			return Removed{}, fmt.Errorf("remove %s: %w", ref.Name, err)
		}
		return Removed{}, nil
	case SourceOllama:
		return Removed{}, fmt.Errorf("remove %s: olm does not delete ollama's files: use `ollama rm %s`", ref.Name, strings.TrimPrefix(ref.Name, "ollama:"))
	}
	return Removed{}, fmt.Errorf("remove %s: olm only removes what it pulled or imported: delete the file yourself", ref.Name)
}

// Remove deletes files of one revision's snapshot, then each blob they linked
// unless another snapshot entry still links it; empty snapshot folders, refs
// to them and an emptied repo folder go too.
func (s Store) Remove(repo, rev string, files []string) (Removed, error) {
	var r Removed
	commit, err := s.Commit(repo, rev)
	if err != nil {
		return r, err
	}
	snap := filepath.Join(s.RepoDir(repo), "snapshots", commit)
	candidates := map[string]bool{}
	for _, f := range files {
		link := s.SnapshotPath(repo, commit, f)
		st, err := os.Lstat(link)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return r, err
		}
		if st.Mode()&fs.ModeSymlink != 0 {
			if target, err := linkTarget(link); err == nil {
				candidates[target] = true
			}
		} else {
			r.Freed += st.Size() // a copied file (no symlink support): it is its own blob
		}
		if err := os.Remove(link); err != nil {
			return r, err
		}
		r.Links = append(r.Links, link)
		pruneEmptyDirs(filepath.Dir(link), snap)
	}
	if len(r.Links) == 0 {
		return r, fmt.Errorf("%s@%s: %w", repo, rev, ErrNotLocal)
	}

	linked, err := s.linkedBlobs(repo)
	if err != nil {
		return r, err
	}
	for blob := range candidates {
		if linked[blob] {
			r.Kept = append(r.Kept, blob)
			continue
		}
		st, err := os.Stat(blob)
		if err != nil {
			continue // already gone
		}
		if err := os.Remove(blob); err != nil {
			return r, err
		}
		r.Freed += st.Size()
		r.Blobs = append(r.Blobs, blob)
	}
	s.tidy(repo, commit)
	return r, nil
}

// linkedBlobs collects the blob every snapshot entry points at.
func (s Store) linkedBlobs(repo string) (map[string]bool, error) {
	linked := map[string]bool{}
	err := filepath.WalkDir(filepath.Join(s.RepoDir(repo), "snapshots"), func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			if t, err := linkTarget(p); err == nil {
				linked[t] = true
			}
		}
		return nil
	})
	return linked, err
}

// tidy drops refs to a vanished snapshot and the repo folder once nothing
// (not even a partial download) is left in it.
func (s Store) tidy(repo, commit string) {
	dir := s.RepoDir(repo)
	if _, err := os.Stat(filepath.Join(dir, "snapshots", commit)); err == nil {
		return
	}
	refs := filepath.Join(dir, "refs")
	_ = filepath.WalkDir(refs, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, err := os.ReadFile(p); err == nil && strings.TrimSpace(string(b)) == commit {
				_ = os.Remove(p)
			}
		}
		return nil
	})
	for _, sub := range []string{"snapshots", "blobs", "refs"} {
		if !emptyTree(filepath.Join(dir, sub)) {
			return
		}
	}
	_ = os.RemoveAll(dir)
}

func linkTarget(link string) (string, error) {
	t, err := os.Readlink(link)
	if err != nil {
		return "", err
	}
	if !filepath.IsAbs(t) {
		t = filepath.Join(filepath.Dir(link), t)
	}
	return filepath.Clean(t), nil
}

// pruneEmptyDirs removes dir and its parents while empty, stopping above stop.
func pruneEmptyDirs(dir, stop string) {
	stopParent := filepath.Dir(stop)
	for dir != stopParent && strings.HasPrefix(dir, stop) {
		if os.Remove(dir) != nil { // fails when not empty
			return
		}
		dir = filepath.Dir(dir)
	}
}

// emptyTree reports whether a folder holds no files (folders may remain).
func emptyTree(dir string) bool {
	empty := true
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			empty = false
			return fs.SkipAll
		}
		return nil
	})
	return empty
}
