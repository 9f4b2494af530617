package models

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrNotLocal means a file is not in the hub cache.
var ErrNotLocal = errors.New("not in the local cache")

// Store is a Hugging Face hub cache (the layout huggingface_hub, `hf download`
// and llama.cpp's -hf share):
//
//	models--OWNER--REPO/blobs/<sha256>
//	models--OWNER--REPO/snapshots/<commit>/<file> -> ../../blobs/<sha256>
//	models--OWNER--REPO/refs/<rev>                 (holds <commit>, no newline)
type Store struct {
	Root string
	// Reverify makes Pull hash cached blobs even when olm's verification stamp says they
	// are intact (olm pull --verify).
	Reverify bool
}

// RepoDir is the cache folder of a model repo.
func (s Store) RepoDir(repo string) string {
	return filepath.Join(s.Root, "models--"+strings.ReplaceAll(repo, "/", "--"))
}

// BlobPath is where a blob with the given id (sha256 for LFS files) lives.
func (s Store) BlobPath(repo, blob string) string {
	return filepath.Join(s.RepoDir(repo), "blobs", blob)
}

// SnapshotPath is where a file of a commit appears.
func (s Store) SnapshotPath(repo, commit, file string) string {
	return filepath.Join(s.RepoDir(repo), "snapshots", commit, filepath.FromSlash(file))
}

// Commit maps a revision to a commit through refs/<rev>. A revision that is
// already a commit hash maps to itself.
func (s Store) Commit(repo, rev string) (string, error) {
	if rev == "" {
		rev = "main"
	}
	if isHex(rev, 40) {
		return rev, nil
	}
	b, err := os.ReadFile(filepath.Join(s.RepoDir(repo), "refs", filepath.FromSlash(rev)))
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%s@%s: %w", repo, rev, ErrNotLocal)
	}
	if err != nil {
		return "", fmt.Errorf("read ref %s@%s: %w", repo, rev, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// Lookup returns the snapshot path of a file at a revision, if the link
// exists and its blob is present.
func (s Store) Lookup(repo, rev, file string) (string, error) {
	commit, err := s.Commit(repo, rev)
	if err != nil {
		return "", err
	}
	p := s.SnapshotPath(repo, commit, file)
	if _, err := os.Stat(p); err != nil { // Stat follows the link: a dangling one is not local
		return "", fmt.Errorf("%s/%s@%s: %w", repo, file, rev, ErrNotLocal)
	}
	return p, nil
}

// WriteRef records that rev points at commit, as huggingface_hub does.
func (s Store) WriteRef(repo, rev, commit string) error {
	if rev == "" {
		rev = "main"
	}
	if rev == commit {
		return nil // pinned by hash: huggingface_hub writes no ref either
	}
	p := filepath.Join(s.RepoDir(repo), "refs", filepath.FromSlash(rev))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("write ref %s: %w", rev, err)
	}
	if err := writeFileAtomic(p, []byte(commit)); err != nil {
		return fmt.Errorf("write ref %s: %w", rev, err)
	}
	return nil
}

// Link points snapshots/<commit>/<file> at blobs/<blob> with a relative
// symlink, so the cache survives being moved or mounted elsewhere.
func (s Store) Link(repo, commit, file, blob string) (string, error) {
	link := s.SnapshotPath(repo, commit, file)
	target, err := filepath.Rel(filepath.Dir(link), s.BlobPath(repo, blob))
	if err != nil {
		return "", fmt.Errorf("link %s: %w", file, err)
	}
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		return "", fmt.Errorf("link %s: %w", file, err)
	}
	if cur, err := os.Readlink(link); err == nil && cur == target {
		return link, nil
	}
	// Make the new link beside the old one and rename over it: never a moment
	// with no file for a reader that is loading the model.
	tmp := link + ".olm-link"
	_ = os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return "", fmt.Errorf("link %s: %w", file, err)
	}
	if err := os.Rename(tmp, link); err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("link %s: %w", file, err)
	}
	return link, nil
}

// AdoptBlob moves a verified file into blobs/<blob>. The caller has checked
// its size and hash; the move is a rename, so src must be on the same disk
// (download into Store.BlobPath(repo, blob)+".incomplete" to ensure that).
func (s Store) AdoptBlob(repo, src, blob string) (string, error) {
	dst := s.BlobPath(repo, blob)
	if src == dst {
		return dst, nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", fmt.Errorf("add blob %s: %w", blob, err)
	}
	if err := os.Rename(src, dst); err != nil {
		return "", fmt.Errorf("add blob %s: %w", blob, err)
	}
	return dst, nil
}

// SnapshotFiles lists the files of a revision's snapshot, relative and
// slash-separated, so hf references resolve offline.
func (s Store) SnapshotFiles(repo, rev string) ([]string, error) {
	commit, err := s.Commit(repo, rev)
	if err != nil {
		return nil, err
	}
	root := filepath.Join(s.RepoDir(repo), "snapshots", commit)
	var files []string
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s@%s: %w", repo, rev, ErrNotLocal)
	}
	return files, err
}

func writeFileAtomic(p string, data []byte) error {
	tmp := p + ".olm-tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, p); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return nil
}
