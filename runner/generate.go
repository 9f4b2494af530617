package runner

// #include "loop.h"
import "C"

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unsafe"
)

// StopReason says why generation ended.
type StopReason string

const (
	StopEOG         StopReason = "eog"          // the model ended its turn
	StopMaxTokens   StopReason = "max_tokens"   // -n reached
	StopString      StopReason = "stop"         // a stop string appeared
	StopContextFull StopReason = "context_full" // no room left in the KV cache
	StopCancelled   StopReason = "cancelled"    // ctx was cancelled (Ctrl-C)
)

// GenerateOptions bound one generation.
type GenerateOptions struct {
	MaxTokens int      // <= 0: until end of generation or a full context
	Stop      []string // never emitted; generation ends at the first
	Sampler   *Sampler
}

// Result describes a finished generation.
type Result struct {
	Reason          StopReason
	PromptTokens    int           // tokens in the prompt
	PromptEvaluated int           // of those, evaluated now (the rest came from the KV cache)
	GenTokens       int           // tokens sampled
	PromptTime      time.Duration // wall time to evaluate the prompt and sample the first token
	GenTime         time.Duration // wall time of the generation loop after the first token
	Perf            Perf          // llama.cpp's own decode timings for this call
}

// PromptTPS is prompt tokens evaluated per second of wall time.
func (r Result) PromptTPS() float64 { return rate(r.PromptEvaluated, r.PromptTime) }

// GenTPS is tokens generated per second of wall time, after the first.
func (r Result) GenTPS() float64 { return rate(r.GenTokens-1, r.GenTime) }

func rate(n int, d time.Duration) float64 {
	if n <= 0 || d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// ErrContextFull is returned when the prompt alone does not fit.
var ErrContextFull = errors.New("context full")

// Generate evaluates prompt (reusing the longest prefix already in the KV cache), then
// samples until a stop condition, streaming text through emit. emit's slice is valid only
// during the call. On cancellation the text so far has been emitted and the Result has
// Reason StopCancelled with a nil error.
func (c *Context) Generate(ctx context.Context, prompt []Token, o GenerateOptions, emit func([]byte) error) (Result, error) {
	res := Result{PromptTokens: len(prompt)}
	if len(prompt) == 0 {
		return res, errors.New("generate: empty prompt")
	}
	// A prompt that fills the context exactly still yields one token: the first sample needs
	// no room in the cache.
	if len(prompt) > c.nCtx {
		return res, fmt.Errorf("%w: the prompt is %d tokens but --ctx is %d; raise --ctx or shorten the prompt",
			ErrContextFull, len(prompt), c.nCtx)
	}
	if o.Sampler == nil {
		return res, errors.New("generate: no sampler")
	}
	smpl := o.Sampler
	smpl.Prime(prompt)

	// Reuse the cache: keep the common prefix, but always evaluate at least the last prompt
	// token, whose logits the first sample needs.
	keep := min(CommonPrefix(c.cached, prompt), len(prompt)-1)
	c.trimTo(keep)
	res.PromptEvaluated = len(prompt) - keep
	c.ResetPerf()

	cancelled := func() error { return ctx.Err() }
	start := time.Now()
	if err := c.decode(prompt[keep:], cancelled); err != nil {
		if ctx.Err() != nil {
			res.Reason = StopCancelled
			return res, nil
		}
		return res, fmt.Errorf("evaluate prompt: %w", err)
	}

	stream := NewTextStream(o.Stop, emit)
	var pieceLen C.int
	var tok C.llama_token
	if rc := C.olm_sample(c.c, smpl.s, c.model.vocab, -1, &tok, c.piece, C.int(c.pieceCap), &pieceLen); rc != 0 {
		return res, decodeError(rc)
	}
	res.PromptTime = time.Since(start)
	genStart := time.Now()
	finish := func(err error) (Result, error) {
		res.GenTime = time.Since(genStart)
		res.Perf = c.Perf()
		return res, err
	}
	for {
		if C.llama_vocab_is_eog(c.model.vocab, tok) {
			res.Reason = StopEOG
			break
		}
		res.GenTokens++
		piece := unsafe.Slice((*byte)(unsafe.Pointer(c.piece)), int(pieceLen))
		if len(piece) == 0 && c.model.StopsOnControl(Token(tok), o.Stop) {
			res.Reason = StopString
			break
		}
		stopped, err := stream.Push(piece)
		if err != nil {
			return finish(err)
		}
		if stopped {
			res.Reason = StopString
			return finish(nil)
		}
		switch {
		case o.MaxTokens > 0 && res.GenTokens >= o.MaxTokens:
			res.Reason = StopMaxTokens
		case len(c.cached) >= c.nCtx:
			res.Reason = StopContextFull
		case ctx.Err() != nil:
			res.Reason = StopCancelled
		}
		if res.Reason != "" {
			break
		}
		prev := tok // olm_step decodes prev, then samples the next token into tok
		rc := C.olm_step(c.c, &c.batch, smpl.s, c.model.vocab, prev, C.int(len(c.cached)), &tok, c.piece, C.int(c.pieceCap), &pieceLen)
		if rc != 0 {
			return finish(decodeError(rc))
		}
		c.cached = append(c.cached, Token(prev))
	}
	return finish(stream.Flush())
}

// StopsOnControl handles control tokens (rendered as nothing) whose special text is a stop
// string, e.g. "<|im_end|>" in a model whose vocabulary does not mark it as end of turn.
func (m *Model) StopsOnControl(t Token, stops []string) bool {
	if len(stops) == 0 {
		return false
	}
	text := string(m.Piece(nil, t, true))
	return text != "" && slices.ContainsFunc(stops, func(s string) bool { return strings.Contains(text, s) })
}

// CommonPrefix is the number of leading tokens a and b share.
func CommonPrefix(a, b []Token) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}
