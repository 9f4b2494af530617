package benchout

import (
	"math"
	"strconv"
)

// niceAxis picks a y axis from 0 to at least top with about five ticks at a
// step of 1, 2 or 5 times a power of ten, so tick labels are round numbers.
func niceAxis(top float64) (axisMax, step float64) {
	if !(top > 0) || math.IsInf(top, 0) {
		return 1, 0.2
	}
	raw := top / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step = 10 * mag
	for _, m := range []float64{1, 2, 5} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	axisMax = math.Ceil(top/step-1e-9) * step
	return axisMax, step
}

// tickLabel formats a tick value with as many decimals as the step needs.
func tickLabel(v, step float64) string {
	dec := 0
	if step < 1 {
		dec = int(math.Ceil(-math.Log10(step) - 1e-9))
	}
	return strconv.FormatFloat(v, 'f', dec, 64)
}

// valueLabel formats a bar's t/s with three or so significant digits, short
// enough to sit above a bar.
func valueLabel(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}
