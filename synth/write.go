package synth

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
)

// Write writes the model s describes to path: to a temporary file in the same
// directory first, renamed into place only when complete. q quantizes tensors
// whose type is quantized and may be nil when none are (F32, F16, BF16 or
// NeedsQuantizer false). Memory stays bounded whatever the model size: tensors
// are generated, encoded and written a few rows at a time. ctx is checked
// between chunks.
func Write(ctx context.Context, path string, s Spec, q Quantizer) (err error) {
	p, err := newPlan(s)
	if err != nil {
		return err
	}
	if q == nil && p.needsQuantizer() {
		return fmt.Errorf("write %s: file type %s needs a Quantizer", path, p.spec.FileType)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()

	w := bufio.NewWriterSize(f, 4<<20)
	if _, err := w.Write(p.header); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := p.writeData(ctx, w, q); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp, 0o644); err != nil { // CreateTemp makes it 0600
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// chunkResult is one encoded chunk, or why it could not be made.
type chunkResult struct {
	data []byte
	err  error
}

// writeData generates chunks on GOMAXPROCS workers and writes them in file
// order. At most 2*workers chunks are in memory at once.
func (p *plan) writeData(ctx context.Context, w io.Writer, q Quantizer) error {
	ctx, cancel := context.WithCancel(ctx)
	workers := runtime.GOMAXPROCS(0)
	chunks := p.chunks()
	bufs := sync.Pool{New: func() any { b := make([]float32, 0, chunkElems); return &b }}

	// Each chunk gets a 1-slot channel queued in file order; the writer reads
	// them in turn, so workers finish in any order but bytes land in order.
	queue := make(chan chan chunkResult, workers)
	var wg sync.WaitGroup
	produced := make(chan struct{})
	defer func() {
		// Stop the producer, then wait for the workers: no Quantizer call
		// outlives Write.
		cancel()
		<-produced
		wg.Wait()
	}()
	go func() {
		defer close(produced)
		defer close(queue)
		sem := make(chan struct{}, workers)
		for _, c := range chunks {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			res := make(chan chunkResult, 1)
			select {
			case queue <- res:
			case <-ctx.Done():
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				n := int(c.nrows * p.tensors[c.tensor].Shape[0])
				bp := bufs.Get().(*[]float32)
				if cap(*bp) < n {
					*bp = make([]float32, n)
				}
				buf := (*bp)[:n]
				p.values(c, buf)
				data, err := p.encode(c, buf, q)
				bufs.Put(bp)
				res <- chunkResult{data, err}
			}()
		}
	}()

	zeros := make([]byte, Alignment)
	for _, c := range chunks {
		res, ok := <-queue
		if !ok {
			return errors.Join(errors.New("generation stopped early"), ctx.Err())
		}
		r := <-res
		if r.err != nil {
			return r.err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if _, err := w.Write(r.data); err != nil {
			return err
		}
		if t := p.tensors[c.tensor]; c.last {
			if _, err := w.Write(zeros[:pad(t.Size)-t.Size]); err != nil {
				return err
			}
		}
	}
	return nil
}
