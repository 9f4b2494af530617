package engine

import (
	"fmt"
	"time"

	"github.com/olm-dev/olm/runner"
)

// TurnStats describe one answer and the context after it.
type TurnStats struct {
	PromptTokens    int           // tokens in the rendered conversation
	PromptEvaluated int           // of those, evaluated for this answer (the rest came from the KV cache)
	PromptTPS       float64       // prompt tokens evaluated per second
	GenTokens       int           // tokens generated
	GenTPS          float64       // generation speed after the first token
	TTFT            time.Duration // time to first token
	Stop            runner.StopReason
	CtxUsed         int // tokens in the KV cache after the answer
	CtxSize         int
}

func newStats(r Result) TurnStats {
	return TurnStats{
		PromptTokens: r.PromptTokens, PromptEvaluated: r.PromptEvaluated, PromptTPS: r.PromptTPS(),
		GenTokens: r.GenTokens, GenTPS: r.GenTPS(), TTFT: r.PromptTime, Stop: r.Reason,
		CtxUsed: r.CtxUsed, CtxSize: r.CtxSize,
	}
}

// String is what /stats prints.
func (s TurnStats) String() string {
	return fmt.Sprintf("prompt:     %d tokens, %d evaluated (%d from cache), %.1f t/s\n"+
		"answer:     %d tokens, %.1f t/s, stop: %s\n"+
		"first token: %s\n"+
		"context:    %d of %d tokens used (%d%%)\n",
		s.PromptTokens, s.PromptEvaluated, s.PromptTokens-s.PromptEvaluated, s.PromptTPS,
		s.GenTokens, s.GenTPS, s.Stop,
		s.TTFT.Round(time.Millisecond),
		s.CtxUsed, s.CtxSize, percent(s.CtxUsed, s.CtxSize))
}

func percent(n, of int) int {
	if of <= 0 {
		return 0
	}
	return n * 100 / of
}
