package benchout

import (
	"fmt"
	"io"

	"github.com/olm-dev/olm/runner"
)

// Formats returns the output format names Write accepts, for flag help.
func Formats() []string { return []string{"md", "csv", "json", "jsonl"} }

// Options adds a baseline to the output.
type Options struct {
	// Baseline, when non-nil, adds a "vs base" column to the md table with each
	// row's t/s ratio to its matching baseline row. The data formats keep
	// llama-bench's shape and ignore it.
	Baseline []runner.BenchRow
	Compare  CompareOptions
}

// Write prints rows in format: md (the default, for "" too), csv, json or jsonl.
func Write(w io.Writer, format string, rows []runner.BenchRow) error {
	return WriteWith(w, format, rows, Options{})
}

// WriteWith is Write with a baseline.
func WriteWith(w io.Writer, format string, rows []runner.BenchRow, opt Options) error {
	switch format {
	case "", "md":
		var cmp []Comparison
		if opt.Baseline != nil {
			cmp = CompareWith(rows, opt.Baseline, opt.Compare)
		}
		return writeMarkdown(w, rows, cmp)
	case "csv":
		return writeCSV(w, rows)
	case "json":
		return writeJSON(w, rows)
	case "jsonl":
		return writeJSONL(w, rows)
	}
	return fmt.Errorf("unknown output format %q (want one of %v)", format, Formats())
}
