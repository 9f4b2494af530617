package download

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

var (
	errStalled   = errors.New("download stalled")
	errShortBody = errors.New("response ended before the range was complete")
	errNoRange   = errors.New("server ignored the Range header")
)

// runChunk downloads chunk i, retrying transient failures. The retry budget
// restarts whenever an attempt made progress, so a flaky link that keeps
// delivering still finishes while a dead one gives up.
func (f *fetcher) runChunk(ctx context.Context, r *ring, i int) error {
	f.mu.Lock()
	c := f.st.Chunks[i]
	f.mu.Unlock()
	// pos is where the next byte goes. The sink records progress a little
	// later, so the connection keeps its own count for retries.
	pos := c.Offset + c.Done
	failures := 0
	for pos < c.Offset+c.Size {
		progressed, err := f.getRange(ctx, r, i, c, &pos)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		var rt *retryable
		if !errors.As(err, &rt) {
			return err
		}
		if progressed {
			failures = 0
		}
		failures++
		if failures > f.c.maxRetries() {
			return err
		}
		d := backoff(failures, err)
		if d >= waitNotice {
			f.rep.waiting(d, waitMessage(d, rt, err))
		}
		if err := f.c.clock().Sleep(ctx, d); err != nil {
			return context.Cause(ctx)
		}
	}
	return nil
}

// getRange requests [*pos, end of chunk c) once and writes what arrives,
// advancing *pos. It returns nil only when the chunk is complete.
func (f *fetcher) getRange(ctx context.Context, r *ring, i int, c chunk, pos *int64) (progressed bool, err error) {
	f.mu.Lock()
	noRange := f.st.NoRange
	f.mu.Unlock()
	start, end := *pos, c.Offset+c.Size // [start, end)

	// The watchdog cancels the request when no byte arrives for StallTimeout.
	reqCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stall := f.c.stallTimeout()
	dog := time.AfterFunc(stall, func() { cancel(errStalled) })
	defer dog.Stop()
	transient := func(err error) error {
		if context.Cause(reqCtx) == errStalled && ctx.Err() == nil {
			return &retryable{err: fmt.Errorf("%w: nothing received for %v", errStalled, stall)}
		}
		return classify(ctx, err)
	}

	hdr := http.Header{"Accept-Encoding": {"identity"}}
	if !noRange || start > 0 {
		hdr.Set("Range", fmt.Sprintf("bytes=%d-%d", start, end-1))
	}
	resp, err := f.c.send(reqCtx, http.MethodGet, f.r.URL, hdr, true)
	if err != nil {
		return false, transient(err)
	}
	defer resp.Body.Close()
	body := &watchdogReader{r: resp.Body, dog: dog, d: stall}
	switch resp.StatusCode {
	case http.StatusPartialContent:
		if cr := resp.Header.Get("Content-Range"); !rangeMatches(cr, start, end, f.r.Size) {
			return false, fmt.Errorf("%w: asked for bytes %d-%d of %d, got Content-Range %q", errNoRange, start, end-1, f.r.Size, cr)
		}
	case http.StatusOK:
		// A full body serves only a file-sized chunk; bytes we already
		// have are read past (and were hashed when first written).
		if c.Offset != 0 || c.Size != f.r.Size {
			return false, errNoRange
		}
		if err := skip(ctx, r, body, start); err != nil {
			return false, transient(err)
		}
	default:
		return false, transient(statusError(resp))
	}

	rest := io.LimitReader(body, end-start)
	flushed := start // written back from here on
	for {
		buf, err := r.get(ctx)
		if err != nil {
			return progressed, err
		}
		// Plain Read, not ReadFull: what arrived goes to disk (and into
		// progress) at once instead of waiting for a full buffer. On a
		// fast link reads come back full anyway.
		n, rerr := rest.Read(buf[:min(int64(len(buf)), end-*pos)])
		if n == 0 {
			r.put(buf)
		} else {
			if _, err := f.file.WriteAt(buf[:n], *pos); err != nil {
				r.put(buf)
				return progressed, fmt.Errorf("write %s: %w", f.partial(), err)
			}
			f.rep.add(int64(n))
			if *pos+int64(n)-flushed >= writebackEvery {
				startWriteback(f.file, flushed, *pos+int64(n)-flushed)
				flushed = *pos + int64(n)
			}
			r.full <- block{chunk: i, off: *pos, data: buf[:n]}
			*pos += int64(n)
			progressed = true
		}
		switch {
		case *pos == end:
			return progressed, nil
		case rerr == nil:
		case errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF):
			// Connection cut, or a body shorter than the range.
			return progressed, &retryable{err: fmt.Errorf("%w: got %d of %d bytes", errShortBody, *pos-c.Offset, c.Size)}
		default:
			return progressed, transient(rerr)
		}
	}
}

// skip reads past n bytes of a body that ignored our Range.
func skip(ctx context.Context, r *ring, body io.Reader, n int64) error {
	if n == 0 {
		return nil
	}
	buf, err := r.get(ctx)
	if err != nil {
		return err
	}
	defer r.put(buf)
	for n > 0 {
		k, err := body.Read(buf[:min(int64(len(buf)), n)])
		n -= int64(k)
		if err == io.EOF && n > 0 {
			return io.ErrUnexpectedEOF
		}
		if err != nil && n > 0 {
			return err
		}
	}
	return nil
}

// watchdogReader re-arms the stall timer around every read, so only time
// spent waiting on the network counts, not writing or hashing.
type watchdogReader struct {
	r   io.Reader
	dog *time.Timer
	d   time.Duration
}

func (w *watchdogReader) Read(p []byte) (int, error) {
	w.dog.Reset(w.d)
	n, err := w.r.Read(p)
	w.dog.Stop()
	return n, err
}

// rangeMatches reports whether a 206's Content-Range is exactly the range
// [start, end) of a size-byte file that was asked for ("bytes a-b/size",
// or "/*" for an unknown length): a different range, or another file's
// length, means the bytes are not the ones we want.
func rangeMatches(cr string, start, end, size int64) bool {
	want := "bytes " + strconv.FormatInt(start, 10) + "-" + strconv.FormatInt(end-1, 10) + "/"
	rest, ok := strings.CutPrefix(cr, want)
	return ok && (rest == "*" || rest == strconv.FormatInt(size, 10))
}
