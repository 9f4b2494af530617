package models

import (
	"fmt"
	"os"
	"syscall"
)

// A blob olm has verified carries a stamp in an extended attribute: its sha256, size and
// modification time. A later pull trusts a blob whose stamp still matches instead of
// reading gigabytes again (huggingface_hub trusts any blob by its name); a write changes
// the mtime and voids the stamp, and olm pull --verify ignores it. Filesystems without
// user xattrs keep no stamp, and each pull hashes the blob as before.
const stampAttr = "user.olm.verified"

func stampText(path, sum string) (string, bool) {
	st, err := os.Stat(path)
	if err != nil {
		return "", false
	}
	return fmt.Sprintf("%s %d %d", sum, st.Size(), st.ModTime().UnixNano()), true
}

// stampVerified records that path's content hashes to sum, as it is now.
func stampVerified(path, sum string) {
	if text, ok := stampText(path, sum); ok {
		_ = syscall.Setxattr(path, stampAttr, []byte(text), 0) // no stamp: the next pull hashes
	}
}

// stampValid reports whether path carries a stamp for sum that its size and mtime still match.
func stampValid(path, sum string) bool {
	want, ok := stampText(path, sum)
	if !ok {
		return false
	}
	buf := make([]byte, 256)
	n, err := syscall.Getxattr(path, stampAttr, buf)
	return err == nil && string(buf[:n]) == want
}
