//go:build !unix

package download

import "context"

// lockFile is a no-op where flock is unavailable.
func lockFile(ctx context.Context, path string, noWait bool) (func(), error) {
	return func() {}, nil
}
