// Package perplexity measures how well a model predicts a text, with llama-perplexity's
// method, and how far a model's predictions are from a reference's (KL divergence, top-1
// agreement), as `llama-perplexity --kl-divergence` does. It is pure arithmetic over
// logits; the model behind them is an Evaluator (runner.Context is one).
//
// The method: the text's tokens are cut into windows of Ctx tokens; each window is
// evaluated from an empty cache (its first token replaced by BOS when the model adds one)
// and only its second half is scored, so every scored token has at least Ctx/2 tokens
// of context. Perplexity is exp of the mean negative log-likelihood of the scored tokens.
package perplexity

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
)

// Evaluator returns the logits of one window: positions first.. of toks, NVocab floats
// each, into dst, evaluated from an empty KV cache.
type Evaluator interface {
	EvalWindow(ctx context.Context, toks []int32, first int, dst []float32) error
}

// Options say how to cut and score the text.
type Options struct {
	Ctx    int   // window size in tokens
	Chunks int   // score at most this many windows (0: all)
	NVocab int   // logits per position
	BOS    int32 // put in each window's first position; -1: the model adds no BOS

	// Progress is called after each window with the running perplexity; may be nil.
	Progress func(done, total int, ppl float64)
}

// Result is a perplexity with its standard error, as llama-perplexity computes both.
type Result struct {
	PPL       float64 `json:"ppl"`
	PPLStderr float64 `json:"ppl_stderr"`
	NTokens   int     `json:"n_tokens"` // tokens scored
	NCtx      int     `json:"n_ctx"`
	NChunks   int     `json:"n_chunks"`
}

// ErrTooShort marks a text too short for two windows, llama-perplexity's minimum.
var ErrTooShort = errors.New("text too short")

// first is the first scored position of a window of n tokens.
func first(n int) int { return n / 2 }

// Windows is the number of windows the tokens give, or an error when they give fewer
// than two.
func Windows(nTokens int, o Options) (int, error) {
	if o.Ctx < 4 {
		return 0, fmt.Errorf("--ctx %d: windows of fewer than 4 tokens score nothing; use 4 or more", o.Ctx)
	}
	if nTokens < 2*o.Ctx {
		return 0, fmt.Errorf("%w: %d tokens, and --ctx %d needs at least %d (two windows); give more text or a smaller --ctx",
			ErrTooShort, nTokens, o.Ctx, 2*o.Ctx)
	}
	n := nTokens / o.Ctx
	if o.Chunks > 0 {
		n = min(n, o.Chunks)
	}
	return n, nil
}

// Run computes the perplexity of tokens (the text tokenized with BOS, as llama-perplexity
// does). With save non-nil it also writes the windows' log-probabilities there in the
// logits file format (see WriteLogitsHeader), so the model can serve as a KL reference.
func Run(ctx context.Context, ev Evaluator, tokens []int32, o Options, save io.Writer) (Result, error) {
	nChunks, err := Windows(len(tokens), o)
	if err != nil {
		return Result{}, err
	}
	if save != nil {
		if err := WriteLogitsHeader(save, LogitsHeader{NCtx: o.Ctx, NVocab: o.NVocab, Tokens: tokens[:nChunks*o.Ctx]}); err != nil {
			return Result{}, err
		}
	}
	var acc nllSum
	var row []uint16
	if save != nil {
		row = make([]uint16, rowLen(o.NVocab))
	}
	err = eachWindow(ctx, ev, tokens, nChunks, o, func(win []int32, logits []float32) error {
		for j := 0; j+1 < len(win)-first(len(win)); j++ {
			lg := logits[j*o.NVocab : (j+1)*o.NVocab]
			next := win[first(len(win))+j+1]
			if save != nil {
				acc.add(quantizeRow(lg, row, next))
				if err := writeRow(save, row); err != nil {
					return err
				}
				continue
			}
			acc.add(nll(lg, next))
		}
		return nil
	}, func(done int) float64 { return acc.ppl() })
	if err != nil {
		return Result{}, err
	}
	ppl, se := acc.pplStderr()
	return Result{PPL: ppl, PPLStderr: se, NTokens: acc.n, NCtx: o.Ctx, NChunks: nChunks}, nil
}

// eachWindow evaluates windows 0..nChunks-1 and hands each one's tokens and logits (from
// its first scored position on) to score.
func eachWindow(ctx context.Context, ev Evaluator, tokens []int32, nChunks int, o Options,
	score func(win []int32, logits []float32) error, ppl func(done int) float64) error {
	f := first(o.Ctx)
	logits := make([]float32, (o.Ctx-f)*o.NVocab)
	win := make([]int32, o.Ctx)
	for i := range nChunks {
		copy(win, tokens[i*o.Ctx:(i+1)*o.Ctx])
		orig := win[0]
		if o.BOS >= 0 {
			win[0] = o.BOS
		}
		if err := ev.EvalWindow(ctx, win, f, logits); err != nil {
			return fmt.Errorf("window %d of %d: %w", i+1, nChunks, err)
		}
		win[0] = orig // only the model's input gets BOS; the tokens scored are the text's
		if err := score(win, logits); err != nil {
			return err
		}
		if o.Progress != nil {
			o.Progress(i+1, nChunks, ppl(i+1))
		}
	}
	return nil
}

// nllSum accumulates negative log-likelihoods.
type nllSum struct {
	sum, sum2 float64
	n         int
}

func (s *nllSum) add(v float64) { s.sum += v; s.sum2 += v * v; s.n++ }

func (s *nllSum) ppl() float64 {
	if s.n == 0 {
		return math.NaN()
	}
	return math.Exp(s.sum / float64(s.n))
}

// pplStderr is exp(mean) and its standard error, by the delta method: ppl times the
// standard error of the mean NLL, as llama-perplexity prints it.
func (s *nllSum) pplStderr() (float64, float64) {
	m, se := meanStderr(s.sum, s.sum2, s.n)
	return math.Exp(m), math.Exp(m) * se
}

// meanStderr is a mean and its standard error from sums.
func meanStderr(sum, sum2 float64, n int) (float64, float64) {
	if n == 0 {
		return 0, 0
	}
	m := sum / float64(n)
	v := sum2/float64(n) - m*m
	if v <= 0 || n < 2 {
		return m, 0
	}
	return m, math.Sqrt(v / float64(n-1))
}

// logSumExp returns the largest logit, its index and log(sum(exp(l - max))).
func logSumExp(logits []float32) (float32, int, float64) {
	mx, imax := logits[0], 0
	for i, v := range logits {
		if v > mx {
			mx, imax = v, i
		}
	}
	var s float64
	for _, v := range logits {
		s += math.Exp(float64(v - mx))
	}
	return mx, imax, math.Log(s)
}

// nll is -log softmax(logits)[tok].
func nll(logits []float32, tok int32) float64 {
	mx, _, lse := logSumExp(logits)
	return float64(mx) + lse - float64(logits[tok])
}
