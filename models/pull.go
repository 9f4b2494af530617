package models

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sync"

	"github.com/olm-dev/olm/download"
)

// Pulled is the result of a pull.
type Pulled struct {
	Ref        Ref
	Commit     string
	Paths      []string // snapshot paths, first part first: what the runner loads
	Downloaded int64    // bytes fetched by this pull (not those cached or kept from an interrupted one)
	Warnings   []string // also sent as PhaseWarning events
}

// Pull makes ref's files present in the hub cache: ask HF for each file's
// size, sha256 and commit; reuse a blob already there if it verifies;
// otherwise have the hub fetch it to blobs/<sha256> (which appears only once
// verified); then link the snapshot and write refs/<rev>. The files of a
// split model download at once, sharing one connection budget. Hugging
// Face is the authority: a catalog hash that disagrees gives a warning,
// not an error. Offline, files already cached are used with a warning.
func Pull(ctx context.Context, store Store, ref Ref, hub Hub, progress Progress) (Pulled, error) {
	if ref.Revision == "" {
		ref.Revision = "main"
	}
	res := Pulled{Ref: ref}
	if !ref.Remote() {
		return res, fmt.Errorf("pull %s: it is a local file already: run it directly", ref.Name)
	}
	// Files download concurrently: events and warnings are serialised here
	// so callbacks need not be safe for concurrent use.
	var mu sync.Mutex
	progress = progress.serialised(&mu)
	warn := func(file, msg string) {
		progress.emit(Event{File: file, Phase: PhaseWarning, Message: msg})
		mu.Lock()
		res.Warnings = append(res.Warnings, msg)
		mu.Unlock()
	}
	for _, w := range ref.Warnings {
		warn("", w)
	}

	// Resolve every file first (cheap), so a missing part fails before any
	// download starts.
	paths := make([]string, len(ref.Files))
	blobs := make([]*download.Remote, len(ref.Files))
	for i, file := range ref.Files {
		progress.emit(Event{File: file, Phase: PhaseResolve})
		blob, err := hub.Resolve(ctx, ref.Repo, ref.Revision, file)
		if err != nil {
			if p, lerr := store.Lookup(ref.Repo, ref.Revision, file); lerr == nil && !errors.Is(err, context.Canceled) {
				warn(file, fmt.Sprintf("could not reach Hugging Face (%v): using the cached copy", err))
				paths[i] = p
				continue
			}
			return res, fmt.Errorf("pull %s: %w", ref.Name, err)
		}
		if blob.SHA256 == "" || !isHex(blob.SHA256, 64) {
			return res, fmt.Errorf("pull %s: Hugging Face gave no sha256 for %s, so it cannot be verified: is it an LFS file?", ref.Name, file)
		}
		if blob.Commit == "" {
			// A mirror that hides X-Repo-Commit: keep the commit we have, if any.
			if blob.Commit, err = store.Commit(ref.Repo, ref.Revision); err != nil {
				return res, fmt.Errorf("pull %s: the hub did not say which commit %s is at: use the official endpoint or pin a commit (@<sha>)", ref.Name, ref.Revision)
			}
		}
		if len(ref.Files) == 1 && ref.Expect != nil {
			crossCheck(ref.Expect, blob, func(m string) { warn(file, m) })
		}
		blobs[i] = &blob
	}

	n, err := ensureBlobs(ctx, store, ref, blobs, hub, progress, warn)
	res.Downloaded = n
	if err != nil {
		return res, fmt.Errorf("pull %s: %w", ref.Name, err)
	}
	for i, file := range ref.Files {
		blob := blobs[i]
		if blob == nil {
			continue // the cached copy, found offline
		}
		p, err := store.Link(ref.Repo, blob.Commit, file, blob.SHA256)
		if err != nil {
			return res, fmt.Errorf("pull %s: %w", ref.Name, err)
		}
		if err := store.WriteRef(ref.Repo, ref.Revision, blob.Commit); err != nil {
			return res, fmt.Errorf("pull %s: %w", ref.Name, err)
		}
		if res.Commit == "" {
			res.Commit = blob.Commit
		}
		paths[i] = p
		progress.emit(Event{File: file, Phase: PhaseLinked, Done: blob.Size, Total: blob.Size})
	}
	res.Paths = paths
	return res, nil
}

// ensureBlobs runs ensureBlob for every resolved file at once, sharing one
// connection budget, and returns the bytes fetched. The first failure
// stops the others (their partial files stay for a resume).
func ensureBlobs(ctx context.Context, store Store, ref Ref, blobs []*download.Remote, hub Hub, progress Progress, warn func(file, msg string)) (int64, error) {
	if err := checkSpace(store, ref, blobs, hub); err != nil {
		return 0, err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	budget := download.NewBudget(0)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		total int64
		first error // the real failure, not a sibling's cancellation
	)
	for i, blob := range blobs {
		if blob == nil {
			continue
		}
		file := ref.Files[i]
		wg.Go(func() {
			n, err := ensureBlob(ctx, store, ref.Repo, file, *blob, hub, budget, progress, func(m string) { warn(file, m) })
			mu.Lock()
			defer mu.Unlock()
			total += n
			if err != nil && first == nil {
				first = err
				cancel(err)
			}
		})
	}
	wg.Wait()
	return total, first
}

// checkSpace is the pull's one disk-space preflight, before any file
// starts: the parts download at once, each laid out as a sparse file, so
// each one's own check in Fetch would see the same free space and all would
// pass although together they do not fit. What is needed is every missing
// blob's size less what an interrupted pull kept of it.
func checkSpace(store Store, ref Ref, blobs []*download.Remote, hub Hub) error {
	need := map[string]int64{} // by directory
	var dirs []string
	seen := map[string]bool{}
	files := 0
	for _, blob := range blobs {
		if blob == nil {
			continue
		}
		dst := store.BlobPath(ref.Repo, blob.SHA256)
		if seen[dst] {
			continue // two names for one blob are fetched once
		}
		seen[dst] = true
		if st, err := os.Stat(dst); err == nil && st.Size() == blob.Size {
			continue // cached; if damaged, its replacement takes the space it frees
		}
		files++
		dir := filepath.Dir(dst)
		if _, ok := need[dir]; !ok {
			dirs = append(dirs, dir)
		}
		n := blob.Size - download.Resumable(*blob, dst)
		need[dir] = min(need[dir], math.MaxInt64-n) + n // a hub's absurd sizes saturate, never wrap
	}
	for _, dir := range dirs {
		if err := hub.CheckSpace(dir, need[dir]); err != nil {
			if files > 1 {
				err = fmt.Errorf("%d files together: %w", files, err)
			}
			return fmt.Errorf("%w (HF_HUB_CACHE moves the model cache)", err)
		}
	}
	return nil
}

// crossCheck compares the catalog's expectation with what HF says now.
func crossCheck(want *File, got download.Remote, warn func(string)) {
	if want.SHA256 != "" && want.SHA256 != got.SHA256 {
		warn(fmt.Sprintf("catalog sha256 %s… differs from Hugging Face's %s… (the file was re-uploaded?): verifying against Hugging Face",
			want.SHA256[:12], got.SHA256[:12]))
	}
	if want.Size > 0 && got.Size > 0 && want.Size != got.Size {
		warn(fmt.Sprintf("catalog size %d differs from Hugging Face's %d: trusting Hugging Face", want.Size, got.Size))
	}
}

// ensureBlob leaves a verified blobs/<sha256> and returns the bytes fetched now.
func ensureBlob(ctx context.Context, store Store, repo, file string, blob download.Remote, hub Hub, budget *download.Budget, progress Progress, warn func(string)) (int64, error) {
	dst := store.BlobPath(repo, blob.SHA256)
	if st, err := os.Stat(dst); err == nil {
		ok := st.Size() == blob.Size
		if ok && !store.Reverify && stampValid(dst, blob.SHA256) {
			progress.emit(Event{File: file, Phase: PhaseCached, Done: blob.Size, Total: blob.Size})
			return 0, nil
		}
		if ok {
			sum, err := hashFile(ctx, dst, func(done int64) {
				progress.emit(Event{File: file, Phase: PhaseVerify, Done: done, Total: blob.Size})
			})
			if err != nil {
				return 0, err
			}
			ok = sum == blob.SHA256
		}
		if ok {
			stampVerified(dst, blob.SHA256)
			progress.emit(Event{File: file, Phase: PhaseCached, Done: blob.Size, Total: blob.Size})
			return 0, nil
		}
		warn(fmt.Sprintf("cached blob for %s is damaged: downloading it again", file))
		if err := os.Remove(dst); err != nil {
			return 0, err
		}
	}
	// Fetch keeps its partial state beside dst and renames into place only
	// after verifying, so blobs/<sha256> never holds unverified bytes.
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return 0, err
	}
	// Fetch counts what it received itself: not bytes kept from an
	// interrupted pull, nor a file another pull finished while this one
	// waited for the lock.
	var got download.FetchResult
	err := hub.Fetch(ctx, blob, dst, download.FetchOptions{Progress: progress.fetchProgress(file), Budget: budget, Result: &got})
	if err != nil {
		return got.Downloaded, fmt.Errorf("download %s: %w", file, err)
	}
	stampVerified(dst, blob.SHA256) // Fetch verified it
	return got.Downloaded, nil
}

// hashFile computes a file's sha256, reporting progress and stopping on ctx.
func hashFile(ctx context.Context, path string, progress func(done int64)) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	buf := make([]byte, 4<<20)
	var done int64
	for {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		n, err := f.Read(buf)
		h.Write(buf[:n])
		done += int64(n)
		if n > 0 && progress != nil {
			progress(done)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", fmt.Errorf("hash %s: %w", path, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
