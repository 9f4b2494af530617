package runner

/*
#include "cbench.h"
*/
import "C"

import (
	"fmt"
	"time"
)

// CDirect runs the C reference loop (cbench.h) on m: nSeq sequences of nPrompt random
// prompt tokens, then nGen decode steps of one token per sequence, one warm-up and reps
// timed runs. It returns the mean prompt and generation times. Benchmarks compare olm's
// own loops with it; nothing in olm's paths calls it.
func CDirect(m *Model, nSeq, nPrompt, nGen, nBatch, threads, reps int) (pp, tg time.Duration, err error) {
	if m.m == nil {
		return 0, 0, errClosed
	}
	var tpp, ttg C.double
	rc := C.olm_cbench(m.m, C.int(nSeq), C.int(nPrompt), C.int(nGen), C.int(nBatch), C.int(threads), C.int(reps), &tpp, &ttg)
	releaseNow()
	if rc != 0 {
		return 0, 0, fmt.Errorf("C direct bench: llama.cpp error %d", rc)
	}
	return time.Duration(float64(tpp) * 1e9), time.Duration(float64(ttg) * 1e9), nil
}
