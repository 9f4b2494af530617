package benchout

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/olm-dev/olm/engine"
)

// batchedFields are the columns of olm bench --parallel, llama-batched-bench's names first.
var batchedFields = []string{"pp", "tg", "pl", "n_kv", "t_pp", "speed_pp", "t_tg", "speed_tg", "t", "speed", "n_threads", "n_batch", "repetitions", "model_filename"}

func batchedValues(r engine.BatchedRow) []string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }
	return []string{strconv.Itoa(r.PP), strconv.Itoa(r.TG), strconv.Itoa(r.PL), strconv.Itoa(r.NKV),
		f(r.TPP), f(r.SpeedPP), f(r.TTG), f(r.SpeedTG), f(r.T), f(r.Speed),
		strconv.Itoa(r.NThreads), strconv.Itoa(r.NBatch), strconv.Itoa(r.Repetitions), r.ModelFilename}
}

// WriteBatched prints batched rows in format: md (also ""), csv, json or jsonl.
func WriteBatched(w io.Writer, format string, rows []engine.BatchedRow) error {
	switch format {
	case "", "md":
		fmt.Fprintf(w, "| %6s | %6s | %4s | %6s | %8s | %9s | %8s | %9s | %8s | %9s |\n",
			"PP", "TG", "PL", "N_KV", "T_PP s", "S_PP t/s", "T_TG s", "S_TG t/s", "T s", "S t/s")
		fmt.Fprintln(w, "|-------:|-------:|-----:|-------:|---------:|----------:|---------:|----------:|---------:|----------:|")
		for _, r := range rows {
			fmt.Fprintf(w, "| %6d | %6d | %4d | %6d | %8.3f | %9.2f | %8.3f | %9.2f | %8.3f | %9.2f |\n",
				r.PP, r.TG, r.PL, r.NKV, r.TPP, r.SpeedPP, r.TTG, r.SpeedTG, r.T, r.Speed)
		}
		return nil
	case "csv":
		cw := csv.NewWriter(w)
		cw.Write(batchedFields)
		for _, r := range rows {
			cw.Write(batchedValues(r))
		}
		cw.Flush()
		return cw.Error()
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if rows == nil {
			rows = []engine.BatchedRow{}
		}
		return enc.Encode(rows)
	case "jsonl":
		enc := json.NewEncoder(w)
		for _, r := range rows {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("unknown output format %q (want one of %v)", format, Formats())
}
