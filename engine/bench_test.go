package engine

import (
	"context"
	"fmt"
	"testing"

	"github.com/olm-dev/olm/runner"
	"github.com/olm-dev/olm/synth"
)

// BenchmarkBatchedVsC measures aggregate generation speed at N sequences through the
// engine (scheduler, sampling, text streams included) and through the C reference loop
// (runner/cbench.h), back to back, and reports both and their ratio.
//
//	OLM_BENCH_MODEL=tinyllama-1.1b-q4_k_m.gguf go test ./engine -run '^$' -bench BatchedVsC -benchtime 1x
//
// Without OLM_BENCH_MODEL it writes (once) and runs the TinyLlama-shaped Q4_K_M model.
func BenchmarkBatchedVsC(b *testing.B) {
	m, err := runner.LoadModel(context.Background(), benchModel(b), runner.ModelOptions{GPULayers: 0})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	threads := runner.PhysicalCores()
	const pp, tg, reps = 64, 32, 3
	for _, n := range []int{1, 2, 4, 8} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			var engTG, cTG float64
			for range b.N {
				var row BatchedRow
				err := RunBatchedBench(context.Background(), m, BatchedBench{Prompts: []int{pp}, Gens: []int{tg}, Parallel: []int{n},
					Threads: threads, Batch: 2048, Reps: reps}, func(r BatchedRow) error { row = r; return nil })
				if err != nil {
					b.Fatal(err)
				}
				_, ctg, err := runner.CDirect(m, n, pp, tg, 2048, threads, reps)
				if err != nil {
					b.Fatal(err)
				}
				engTG += row.SpeedTG
				cTG += float64(n*tg) / ctg.Seconds()
			}
			b.ReportMetric(engTG/float64(b.N), "engine-tg-t/s")
			b.ReportMetric(cTG/float64(b.N), "c-tg-t/s")
			b.ReportMetric(engTG/cTG, "ratio")
		})
	}
}

// benchModel is the engine benchmarks' model: $OLM_BENCH_MODEL or TinyLlama-shaped Q4_K_M.
func benchModel(b *testing.B) string {
	b.Helper()
	path, err := runner.BenchModel(context.Background(), synth.FileTypeQ4_K_M, b.Logf)
	if err != nil {
		b.Fatal(err)
	}
	return path
}
