package hftest

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// serveCDN serves /repos/{sha256} with single-range support.
func (h *Hub) serveCDN(w http.ResponseWriter, r *http.Request) {
	sha := strings.TrimPrefix(r.URL.Path, "/repos/")
	h.mu.Lock()
	f := h.blobs[sha]
	h.mu.Unlock()
	req := Request{Server: CDN, Method: r.Method, Path: r.URL.Path, Range: r.Header.Get("Range"),
		Authorization: r.Header.Get("Authorization")}
	if f == nil {
		req.Status = http.StatusNotFound
		h.record(req)
		http.NotFound(w, r)
		return
	}
	size := int64(len(f.Data))
	fault := h.takeFault(CDN, f.Path)
	if fault != nil && fault.Kind == Status {
		req.Status = fault.Code
		h.record(req)
		fault.writeStatus(w)
		return
	}

	start, end, status := int64(0), size, http.StatusOK
	h.mu.Lock()
	ranges := !h.noRange && (fault == nil || fault.Kind != NoRange)
	h.mu.Unlock()
	if rg := r.Header.Get("Range"); rg != "" && ranges {
		var ok bool
		start, end, ok = parseRange(rg, size)
		if !ok {
			req.Status = http.StatusRequestedRangeNotSatisfiable
			h.record(req)
			w.Header().Set("Content-Range", "bytes */"+strconv.FormatInt(size, 10))
			http.Error(w, "range not satisfiable", req.Status)
			return
		}
		status = http.StatusPartialContent
		w.Header().Set("Content-Range", contentRange(start, end, size))
	}
	req.Status = status
	h.record(req)

	body := f.Data[start:end]
	length := int64(len(body))
	if fault != nil && fault.Kind == Short {
		length = min(length, fault.After)
		body = body[:length]
	}
	w.Header().Set("Accept-Ranges", "bytes")
	w.Header().Set("ETag", `"`+f.SHA256+`"`)
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(length, 10))
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	h.mu.Lock()
	rate := h.rate
	h.inFlight++
	h.maxInFlight = max(h.maxInFlight, h.inFlight)
	h.filesInFlight[f.Path]++
	h.maxFilesInFlight = max(h.maxFilesInFlight, len(h.filesInFlight))
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		h.inFlight--
		if h.filesInFlight[f.Path]--; h.filesInFlight[f.Path] == 0 {
			delete(h.filesInFlight, f.Path)
		}
		h.mu.Unlock()
	}()
	fw := &faultWriter{h: h, w: w, r: r, fault: fault}
	if rate <= 0 {
		fw.Write(body)
		return
	}
	throttle(r.Context(), fw, body, rate)
}

// throttle writes body at rate bytes/s: small pieces, each sent once the
// clock says it is due, so the rate holds over any stretch of the body.
func throttle(ctx context.Context, w io.Writer, body []byte, rate int64) {
	const piece = 64 << 10
	start := time.Now()
	for sent := 0; sent < len(body); {
		due := start.Add(time.Duration(float64(sent) / float64(rate) * float64(time.Second)))
		if d := time.Until(due); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return
			}
		}
		n := min(piece, len(body)-sent)
		if _, err := w.Write(body[sent : sent+n]); err != nil {
			return
		}
		sent += n
	}
}

// SetRangeSupport(false) makes the CDN ignore Range on every request, as
// a server without Range support, while other faults (a Cut) still apply.
func (h *Hub) SetRangeSupport(on bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.noRange = !on
}

// parseRange understands one "bytes=a-b", "bytes=a-" or "bytes=-n";
// the result is [start, end).
func parseRange(v string, size int64) (start, end int64, ok bool) {
	s, found := strings.CutPrefix(v, "bytes=")
	if !found || strings.Contains(s, ",") {
		return 0, 0, false
	}
	a, b, found := strings.Cut(s, "-")
	if !found {
		return 0, 0, false
	}
	if a == "" { // suffix
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n <= 0 {
			return 0, 0, false
		}
		return max(size-n, 0), size, size > 0
	}
	start, err := strconv.ParseInt(a, 10, 64)
	if err != nil || start < 0 || start >= size {
		return 0, 0, false
	}
	end = size
	if b != "" {
		last, err := strconv.ParseInt(b, 10, 64)
		if err != nil || last < start {
			return 0, 0, false
		}
		end = min(last+1, size)
	}
	return start, end, true
}
