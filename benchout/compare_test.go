package benchout

import (
	"testing"

	"github.com/olm-dev/olm/runner"
)

func TestCompare(t *testing.T) {
	rows := sampleRows()
	base := sampleRows()
	for i := range base {
		base[i].AvgTs /= 2
		base[i].CPUInfo = "another machine" // machines differ; that is the point
	}
	// Reverse the baseline: matching must go by key, not position.
	for i, j := 0, len(base)-1; i < j; i, j = i+1, j-1 {
		base[i], base[j] = base[j], base[i]
	}
	for i, c := range Compare(rows, base) {
		if !c.Matched() || c.Ratio != 2 {
			t.Errorf("row %d: matched=%v ratio=%v, want 2", i, c.Matched(), c.Ratio)
		}
		if c.Base.NThreads != rows[i].NThreads || testName(*c.Base) != rows[i].Test {
			t.Errorf("row %d matched %s t=%d", i, testName(*c.Base), c.Base.NThreads)
		}
	}
}

func TestCompareNeedsSameParameters(t *testing.T) {
	row := sampleRows()[0]
	for name, change := range map[string]func(){
		"model":    func() { row.ModelType = "llama 7B Q4_0" },
		"threads":  func() { row.NThreads++ },
		"batch":    func() { row.NBatch = 512 },
		"ubatch":   func() { row.NUBatch = 256 },
		"type_k":   func() { row.TypeK = "q8_0" },
		"type_v":   func() { row.TypeV = "q8_0" },
		"fa":       func() { row.FlashAttn = true },
		"ngl":      func() { row.NGPULayers = 99 },
		"depth":    func() { row.NDepth = 512 },
		"n_prompt": func() { row.NPrompt = 128; row.Test = "pp128" },
	} {
		row = sampleRows()[0]
		base := row
		change()
		c := Compare([]runner.BenchRow{row}, []runner.BenchRow{base})[0]
		if c.Base != nil || c.Matched() || ratioCell(c) != "no base" {
			t.Errorf("%s differs but rows matched: %+v", name, c)
		}
	}
}

func TestCompareIgnoreModel(t *testing.T) {
	row := sampleRows()[0]
	base := row
	base.ModelType, base.AvgTs = "qwen2 1B Q4_0", row.AvgTs*4
	if c := Compare([]runner.BenchRow{row}, []runner.BenchRow{base})[0]; c.Base != nil {
		t.Fatal("different models matched by default")
	}
	c := CompareWith([]runner.BenchRow{row}, []runner.BenchRow{base}, CompareOptions{IgnoreModel: true})[0]
	if !c.Matched() || c.Ratio != 0.25 {
		t.Errorf("ignore model: %+v", c)
	}
}

func TestCompareLlamaBenchBaseline(t *testing.T) {
	// A llama-bench row has no "test" field; it still matches ours.
	row := sampleRows()[0]
	base := row
	base.Test = ""
	if c := Compare([]runner.BenchRow{row}, []runner.BenchRow{base})[0]; !c.Matched() {
		t.Errorf("llama-bench-style baseline row did not match")
	}
}

func TestCompareZeroBase(t *testing.T) {
	row := sampleRows()[0]
	base := row
	base.AvgTs = 0
	c := Compare([]runner.BenchRow{row}, []runner.BenchRow{base})[0]
	if c.Base == nil || c.Matched() || c.Ratio != 0 || ratioCell(c) != "n/a" {
		t.Errorf("zero baseline: %+v cell %q", c, ratioCell(c))
	}
}
