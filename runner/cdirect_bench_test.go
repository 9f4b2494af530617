package runner_test

import (
	"context"
	"testing"

	"github.com/olm-dev/olm/runner"
	"github.com/olm-dev/olm/synth"
)

// BenchmarkSingleStreamVsC runs olm bench's pp512 and tg128 (RunBench) and the C reference
// loop (runner/cbench.h) on the same model, back to back, and reports both and the ratios.
//
//	OLM_BENCH_MODEL=tinyllama-1.1b-q4_k_m.gguf go test ./runner -run '^$' -bench SingleStreamVsC -benchtime 1x
func BenchmarkSingleStreamVsC(b *testing.B) {
	path := benchModel(b, synth.FileTypeQ4_K_M)
	threads := runner.PhysicalCores()
	m, err := runner.LoadModel(context.Background(), path, runner.ModelOptions{GPULayers: 0})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	const reps = 3
	var olmPP, olmTG, cPP, cTG float64
	for range b.N {
		sweep := runner.BenchSweep{Models: []string{path}, Prompts: []int{512}, Gens: []int{128}, Depths: []int{0}, Threads: []int{threads},
			Batches: []int{2048}, UBatches: []int{512}, TypeKs: []string{"f16"}, TypeVs: []string{"f16"}, FlashAttn: []bool{false},
			GPULayers: []int{0}, Reps: reps}
		err := runner.RunBench(context.Background(), sweep, nil, func(r runner.BenchRow) error {
			if r.NPrompt > 0 {
				olmPP += r.AvgTs
			} else {
				olmTG += r.AvgTs
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		pp, _, err := runner.CDirect(m, 1, 512, 0, 2048, threads, reps)
		if err != nil {
			b.Fatal(err)
		}
		_, tg, err := runner.CDirect(m, 1, 0, 128, 2048, threads, reps)
		if err != nil {
			b.Fatal(err)
		}
		cPP += 512 / pp.Seconds()
		cTG += 128 / tg.Seconds()
	}
	n := float64(b.N)
	b.ReportMetric(olmPP/n, "olm-pp512-t/s")
	b.ReportMetric(cPP/n, "c-pp512-t/s")
	b.ReportMetric(olmTG/n, "olm-tg128-t/s")
	b.ReportMetric(cTG/n, "c-tg128-t/s")
	b.ReportMetric(olmPP/cPP, "pp-ratio")
	b.ReportMetric(olmTG/cTG, "tg-ratio")
}
