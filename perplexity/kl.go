package perplexity

import (
	"context"
	"fmt"
	"math"
	"slices"
)

// KLResult compares a model with a reference on the same tokens, with the statistics
// llama-perplexity --kl-divergence prints.
type KLResult struct {
	Result                 // the model's perplexity
	PPLBase        float64 `json:"ppl_base"`
	PPLBaseStderr  float64 `json:"ppl_base_stderr"`
	PPLRatio       float64 `json:"ppl_ratio"` // PPL(model)/PPL(base)
	PPLRatioStderr float64 `json:"ppl_ratio_stderr"`
	KLMean         float64 `json:"kl_mean"` // nats per token, KL(base || model)
	KLStderr       float64 `json:"kl_stderr"`
	KLMedian       float64 `json:"kl_median"`
	KLP99          float64 `json:"kl_p99"`
	KLMax          float64 `json:"kl_max"`
	Top1           float64 `json:"top1_agreement"` // fraction of positions whose most likely token is the base's
	Top1Stderr     float64 `json:"top1_agreement_stderr"`
}

// Compare scores the windows saved in base with ev, which must share its vocabulary.
// The window size is the file's; o.Ctx is ignored.
func Compare(ctx context.Context, ev Evaluator, base *LogitsReader, o Options) (KLResult, error) {
	h := base.Header
	if h.NVocab != o.NVocab {
		return KLResult{}, fmt.Errorf("the reference has a vocabulary of %d tokens, this model %d: KL needs the same tokenizer", h.NVocab, o.NVocab)
	}
	o.Ctx = h.NCtx
	nChunks := h.NChunks()
	if o.Chunks > 0 {
		nChunks = min(nChunks, o.Chunks)
	}
	var s klSums
	kls := make([]float64, 0, nChunks*(h.NCtx-1-first(h.NCtx)))
	logq := make([]float64, o.NVocab)
	err := eachWindow(ctx, ev, h.Tokens, nChunks, o, func(win []int32, logits []float32) error {
		rows, err := base.next()
		if err != nil {
			return err
		}
		rl := rowLen(o.NVocab)
		for j := 0; j+1 < len(win)-first(len(win)); j++ {
			kl := s.add(logits[j*o.NVocab:(j+1)*o.NVocab], rows[j*rl:(j+1)*rl], win[first(len(win))+j+1], logq)
			kls = append(kls, kl)
		}
		return nil
	}, func(int) float64 { return s.model.ppl() })
	if err != nil {
		return KLResult{}, err
	}
	return s.result(kls, h.NCtx, nChunks), nil
}

// klSums accumulates what the statistics need, position by position.
type klSums struct {
	model, base  nllSum
	crossNLL     float64 // sum of nll*nll_base, for the covariance of the two
	kl, kl2      float64
	sameTop, cnt int
}

// add scores one position: logits are the model's, row the base's stored distribution,
// tok the true next token. It returns KL(base || model) at this position.
func (s *klSums) add(logits []float32, row []uint16, tok int32, logq []float64) float64 {
	mx, imax, lse := logSumExp(logits)
	for i, v := range logits {
		logq[i] = float64(v) - float64(mx) - lse
	}
	scale, minLogProb := float64(getF32(row[0:2])), float64(getF32(row[2:4]))
	q := row[4 : 4+len(logits)]
	nllQ := -logq[tok]
	nllB := -(scale*float64(q[tok]) + minLogProb)
	var kl float64
	imaxBase := 0
	for i, qi := range q {
		if qi > q[imaxBase] {
			imaxBase = i
		}
		lp := scale*float64(qi) + minLogProb
		if lp > -logRange { // the stored range: rarer tokens were not kept
			kl += math.Exp(lp) * (lp - logq[i])
		}
	}
	s.model.add(nllQ)
	s.base.add(nllB)
	s.crossNLL += nllQ * nllB
	s.kl += kl
	s.kl2 += kl * kl
	s.cnt++
	if imax == imaxBase {
		s.sameTop++
	}
	return kl
}

func (s *klSums) result(kls []float64, nCtx, nChunks int) KLResult {
	var r KLResult
	r.PPL, r.PPLStderr = s.model.pplStderr()
	r.PPLBase, r.PPLBaseStderr = s.base.pplStderr()
	r.NTokens, r.NCtx, r.NChunks = s.cnt, nCtx, nChunks
	mq, seq := meanStderr(s.model.sum, s.model.sum2, s.cnt)
	mb, seb := meanStderr(s.base.sum, s.base.sum2, s.cnt)
	var cov float64
	if s.cnt > 1 {
		cov = (s.crossNLL/float64(s.cnt) - mq*mb) / float64(s.cnt-1)
	}
	r.PPLRatio = math.Exp(mq - mb)
	r.PPLRatioStderr = r.PPLRatio * math.Sqrt(max(seq*seq+seb*seb-2*cov, 0))
	r.KLMean, r.KLStderr = meanStderr(s.kl, s.kl2, s.cnt)
	slices.Sort(kls)
	r.KLMedian = percentile(kls, 0.5)
	r.KLP99 = percentile(kls, 0.99)
	if len(kls) > 0 {
		r.KLMax = kls[len(kls)-1]
	}
	if s.cnt > 0 {
		r.Top1 = float64(s.sameTop) / float64(s.cnt)
	}
	if s.cnt > 1 {
		r.Top1Stderr = math.Sqrt(r.Top1 * (1 - r.Top1) / float64(s.cnt-1))
	}
	return r
}

// percentile interpolates linearly between the sorted values around fraction f, as
// llama-perplexity does (for f = 0.5 that is the usual median).
func percentile(sorted []float64, f float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	p := f * float64(len(sorted)-1)
	i := int(p)
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	p -= float64(i)
	return (1-p)*sorted[i] + p*sorted[i+1]
}
