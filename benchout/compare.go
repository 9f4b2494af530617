package benchout

import (
	"fmt"

	"github.com/olm-dev/olm/runner"
)

// Comparison pairs a row with the baseline row run under the same test and
// parameters.
type Comparison struct {
	Row  runner.BenchRow
	Base *runner.BenchRow // nil when the baseline has no matching row
	// Ratio is Row.AvgTs / Base.AvgTs: above 1 means faster than the baseline.
	// It is 0 when there is no match or the baseline's t/s is not positive.
	Ratio float64
}

// Matched reports whether the row has a usable baseline ratio.
func (c Comparison) Matched() bool { return c.Base != nil && c.Ratio > 0 }

// CompareOptions changes how rows are matched to the baseline.
type CompareOptions struct {
	// IgnoreModel matches rows whatever their model_type. Off by default: the
	// ratio of two different models' speeds says nothing about machines or
	// builds, so by default a row only matches a baseline row of the same model
	// (model_type, not the file name, so the same model stored at different
	// paths or on different machines still matches; a synthetic run of a model
	// matches a real run of it, which is what synthetic runs are for).
	IgnoreModel bool
}

// matchKey is what must be equal for two rows to be comparable: the test and
// every parameter that changes speed.
type matchKey struct {
	model                          string
	test                           string
	nPrompt, nGen, nDepth          int
	nThreads, nBatch, nUBatch, ngl int
	typeK, typeV                   string
	flashAttn                      bool
}

func keyOf(r runner.BenchRow, opt CompareOptions) matchKey {
	k := matchKey{
		test:    testName(r),
		nPrompt: r.NPrompt, nGen: r.NGen, nDepth: r.NDepth,
		nThreads: r.NThreads, nBatch: r.NBatch, nUBatch: r.NUBatch, ngl: r.NGPULayers,
		typeK: r.TypeK, typeV: r.TypeV, flashAttn: r.FlashAttn,
	}
	if !opt.IgnoreModel {
		k.model = r.ModelType
	}
	return k
}

// Compare matches each row to the baseline row of the same model, test and
// parameters (see CompareOptions) and gives the speed ratio.
func Compare(rows, base []runner.BenchRow) []Comparison {
	return CompareWith(rows, base, CompareOptions{})
}

// CompareWith is Compare with options. When the baseline holds several rows
// with the same key, the first one is used.
func CompareWith(rows, base []runner.BenchRow, opt CompareOptions) []Comparison {
	index := make(map[matchKey]int, len(base))
	for i, b := range base {
		k := keyOf(b, opt)
		if _, dup := index[k]; !dup {
			index[k] = i
		}
	}
	out := make([]Comparison, len(rows))
	for i, r := range rows {
		out[i].Row = r
		j, ok := index[keyOf(r, opt)]
		if !ok {
			continue
		}
		b := base[j]
		out[i].Base = &b
		if b.AvgTs > 0 {
			out[i].Ratio = r.AvgTs / b.AvgTs
		}
	}
	return out
}

// ratioCell is the "vs base" table cell for a comparison.
func ratioCell(c Comparison) string {
	switch {
	case c.Base == nil:
		return "no base"
	case c.Ratio <= 0:
		return "n/a"
	}
	return fmt.Sprintf("%.2fx", c.Ratio)
}
