package benchout

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/olm-dev/olm/runner"
)

// Save writes rows to path as a JSON array (what Read and --baseline take)
// atomically: a failed or interrupted run leaves the old file, or none, never
// half a file.
func Save(path string, rows []runner.BenchRow) error {
	var buf bytes.Buffer
	if err := writeJSON(&buf, rows); err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	return writeFileAtomic(path, buf.Bytes())
}

// writeFileAtomic writes data to a temporary file in path's directory (so the
// rename stays on one file system), syncs it and renames it over path.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	// CreateTemp makes the file private; results are meant to be shared.
	if err = f.Chmod(0o644); err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	return nil
}
