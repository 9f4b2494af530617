package benchout

import (
	"math"

	"github.com/olm-dev/olm/runner"
)

// sampleRows is a threads sweep over pp512, tg128 and pp512+tg128, with
// awkward floats and strings so round trips are put to the test.
func sampleRows() []runner.BenchRow {
	base := runner.BenchRow{
		BuildCommit: "a1b2c3d", BuildNumber: 6543,
		CPUInfo: `AMD EPYC 7B13 64-Core "Processor"`, Backends: "CPU",
		ModelFilename: "/home/u/.olm/models/tinyllama-1.1b, q4_0.gguf",
		ModelType:     "llama 1B Q4_0", ModelSize: 636_000_000, ModelNParams: 1_100_048_384,
		NBatch: 2048, NUBatch: 512, TypeK: "f16", TypeV: "f16", NGPULayers: 0, UseMmap: true,
		TestTime: "2026-01-02T03:04:05Z", OlmVersion: "0.1.0", BuildFlags: "-O3 -march=native",
		CPUFeatures: "AVX2 F16C FMA", CPUCores: 16, RAMBytes: 64 << 30, OS: "linux/amd64 6.8.0",
		LoadMs: 123.456789, PeakRSS: 800 << 20, Repetitions: 5,
	}
	var rows []runner.BenchRow
	for _, threads := range []int{4, 8} {
		for _, tc := range []struct {
			test          string
			nPrompt, nGen int
			ts            float64
		}{
			{"pp512", 512, 0, 95.3 * float64(threads)},
			{"tg128", 0, 128, 6.1 * float64(threads)},
			{"pp512+tg128", 512, 128, 20.7 * float64(threads)},
		} {
			r := base
			r.Test, r.NPrompt, r.NGen, r.NThreads = tc.test, tc.nPrompt, tc.nGen, threads
			r.AvgTs = tc.ts + 1.0/3
			r.StddevTs = math.Pi / 10 * float64(threads)
			r.SamplesTs = []float64{r.AvgTs - 0.1, r.AvgTs, r.AvgTs + 0.1 + 1e-9}
			r.SamplesNs = []uint64{1 << 62, 12345678901, 3}
			r.AvgNs, r.StddevNs = 1<<63+7, 1234
			if tc.nPrompt > 0 {
				r.TTFTMs = 5120 / tc.ts
			}
			rows = append(rows, r)
		}
	}
	return rows
}
