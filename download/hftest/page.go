package hftest

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// SetTreePageSize makes the tree API answer n entries per page, with a
// Link: <...>; rel="next" header to the next page as the real hub does
// (its cursor is opaque; ours is an index). 0 means everything at once.
func (h *Hub) SetTreePageSize(n int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.pageSize = n
}

// page cuts the listing (sorted by path so pages are stable) at the
// request's cursor and returns the absolute URL of the next page, if any.
func (h *Hub) page(r *http.Request, entries []TreeEntry) (page []TreeEntry, next string, ok bool) {
	h.mu.Lock()
	size := h.pageSize
	h.mu.Unlock()
	slices.SortFunc(entries, func(a, b TreeEntry) int { return strings.Compare(a.Path, b.Path) })
	if size <= 0 {
		return entries, "", true
	}
	q := r.URL.Query()
	from := 0
	if c := q.Get("cursor"); c != "" {
		n, err := strconv.Atoi(c)
		if err != nil || n < 0 || n > len(entries) {
			return nil, "", false
		}
		from = n
	}
	to := min(from+size, len(entries))
	if to < len(entries) {
		q.Set("cursor", strconv.Itoa(to))
		next = "http://" + r.Host + r.URL.Path + "?" + q.Encode()
	}
	return entries[from:to], next, true
}
