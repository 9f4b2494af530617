package hftest

import (
	"net/http"
	"strconv"
)

// Kind is a kind of misbehaviour.
type Kind int

const (
	// Status answers Code (e.g. 500, 503, 429 with RetryAfter).
	Status Kind = iota + 1
	// Cut sends After body bytes, then drops the connection.
	Cut
	// Stall sends After body bytes, then sends nothing until the client
	// gives up or Release is called.
	Stall
	// Corrupt flips the first byte of the body.
	Corrupt
	// Short sends After body bytes with a Content-Length of After and a
	// clean end, although the range asked for more.
	Short
	// NoRange ignores Range and answers 200 with the whole file.
	NoRange
)

// Fault is one injected misbehaviour.
type Fault struct {
	Kind   Kind
	Server Server // CDN (default) or API; API supports only Status
	// Times is how many requests it affects: 0 means 1, <0 every request.
	Times      int
	Code       int    // Status
	RetryAfter string // Status: Retry-After header value
	After      int64  // Cut, Stall, Short: body bytes sent first
	File       string // only requests for this repo file path ("" any)
	// Skip lets this many matching requests through before the fault starts.
	Skip int
}

// Inject adds a fault; faults apply in the order injected, one per request.
func (h *Hub) Inject(f Fault) {
	if f.Times == 0 {
		f.Times = 1
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.faults = append(h.faults, &f)
}

// ClearFaults removes all faults.
func (h *Hub) ClearFaults() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.faults = nil
}

// takeFault returns the fault for this request (a copy), or nil.
func (h *Hub) takeFault(s Server, file string) *Fault {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, f := range h.faults {
		if f.Server != s || f.Times == 0 || (f.File != "" && f.File != file) {
			continue
		}
		if f.Skip > 0 {
			f.Skip--
			return nil
		}
		if f.Times > 0 {
			f.Times--
		}
		c := *f
		return &c
	}
	return nil
}

func (f *Fault) writeStatus(w http.ResponseWriter) {
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	http.Error(w, http.StatusText(f.Code), f.Code)
}

// faultWriter carries out Cut, Stall and Corrupt on a body.
type faultWriter struct {
	h     *Hub
	w     http.ResponseWriter
	r     *http.Request
	fault *Fault
	sent  int64
}

func (fw *faultWriter) Write(p []byte) (int, error) {
	f := fw.fault
	if f == nil {
		return fw.w.Write(p)
	}
	switch f.Kind {
	case Corrupt:
		if fw.sent == 0 && len(p) > 0 {
			q := append([]byte(nil), p...)
			q[0] ^= 0xff
			p = q
		}
	case Cut, Stall:
		if fw.sent+int64(len(p)) > f.After {
			n, _ := fw.w.Write(p[:f.After-fw.sent])
			fw.sent += int64(n)
			fw.w.(http.Flusher).Flush()
			if f.Kind == Stall {
				fw.stall()
			}
			panic(http.ErrAbortHandler) // drops the connection mid-body
		}
	}
	n, err := fw.w.Write(p)
	fw.sent += int64(n)
	return n, err
}

func (fw *faultWriter) stall() {
	fw.h.mu.Lock()
	release := fw.h.release
	fw.h.mu.Unlock()
	select {
	case <-release:
		return
	default:
	}
	select {
	case fw.h.stalls <- struct{}{}:
	default:
	}
	select {
	case <-release:
	case <-fw.r.Context().Done():
	}
}

func contentRange(start, end, size int64) string {
	return "bytes " + strconv.FormatInt(start, 10) + "-" + strconv.FormatInt(end-1, 10) + "/" + strconv.FormatInt(size, 10)
}
