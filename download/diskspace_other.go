//go:build !unix

package download

import "errors"

func statfsFree(dir string) (uint64, error) {
	return 0, errors.New("free space unknown on this system")
}
