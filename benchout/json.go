package benchout

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"

	"github.com/olm-dev/olm/runner"
)

// writeJSON writes one JSON array of row objects, as llama-bench -o json does.
func writeJSON(w io.Writer, rows []runner.BenchRow) error {
	b, err := json.MarshalIndent(withEmptySamples(rows), "", "  ")
	if err != nil {
		return fmt.Errorf("encode json: %w", err)
	}
	b = append(b, '\n')
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}

// writeJSONL writes one compact object per line, as llama-bench -o jsonl does.
func writeJSONL(w io.Writer, rows []runner.BenchRow) error {
	bw := bufio.NewWriter(w)
	for i, r := range withEmptySamples(rows) {
		b, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("encode jsonl row %d: %w", i, err)
		}
		bw.Write(b)
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write jsonl: %w", err)
	}
	return nil
}

// withEmptySamples returns a copy whose nil sample lists are empty, so they
// encode as [] like llama-bench's rather than null, which scripts that iterate
// samples_ts would trip on. Read turns [] back into nil.
func withEmptySamples(rows []runner.BenchRow) []runner.BenchRow {
	out := make([]runner.BenchRow, len(rows))
	for i, r := range rows {
		if r.SamplesNs == nil {
			r.SamplesNs = []uint64{}
		}
		if r.SamplesTs == nil {
			r.SamplesTs = []float64{}
		}
		out[i] = r
	}
	return out
}
