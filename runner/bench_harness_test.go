package runner_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/olm-dev/olm/runner"
)

func sweep() runner.BenchSweep {
	return runner.BenchSweep{
		// pp256 fills the tiny model's whole 256-token context, as pp512 does on a 512 context.
		Models: []string{tinyPath}, Prompts: []int{256}, Gens: []int{8}, PGs: [][2]int{{8, 4}}, Depths: []int{0},
		Threads: []int{1}, Batches: []int{2048}, UBatches: []int{512}, TypeKs: []string{"f16"}, TypeVs: []string{"f16"},
		FlashAttn: []bool{false}, GPULayers: []int{0}, Reps: 3,
	}
}

func TestBenchRowsHaveCountsAndPositiveSpeeds(t *testing.T) {
	var rows []runner.BenchRow
	err := runner.RunBench(context.Background(), sweep(), nil, func(r runner.BenchRow) error { rows = append(rows, r); return nil })
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		test      string
		np, ngen  int
		ttftIsSet bool
	}{{"pp256", 256, 0, true}, {"tg8", 0, 8, false}, {"pp8+tg4", 8, 4, true}}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(rows), len(want))
	}
	for i, w := range want {
		r := rows[i]
		if r.Test != w.test || r.NPrompt != w.np || r.NGen != w.ngen {
			t.Errorf("row %d: %s p%d n%d, want %s p%d n%d", i, r.Test, r.NPrompt, r.NGen, w.test, w.np, w.ngen)
		}
		if len(r.SamplesNs) != 3 || len(r.SamplesTs) != 3 || r.Repetitions != 3 {
			t.Errorf("row %d: %d samples, want 3", i, len(r.SamplesNs))
		}
		for j, ts := range r.SamplesTs {
			if ts <= 0 || r.SamplesNs[j] == 0 {
				t.Errorf("row %d: sample %d is %v t/s", i, j, ts)
			}
			// t/s must be the tokens of the test over the sample's time.
			if got := float64(w.np+w.ngen) * 1e9 / float64(r.SamplesNs[j]); got != ts {
				t.Errorf("row %d: sample %d t/s %v, from its time %v", i, j, ts, got)
			}
		}
		if r.AvgTs <= 0 || r.StddevTs < 0 {
			t.Errorf("row %d: avg %v ± %v", i, r.AvgTs, r.StddevTs)
		}
		if (r.TTFTMs > 0) != w.ttftIsSet || r.LoadMs <= 0 || r.PeakRSS == 0 {
			t.Errorf("row %d: ttft %v load %v rss %d", i, r.TTFTMs, r.LoadMs, r.PeakRSS)
		}
		if r.BuildCommit != runner.LlamaCommit || r.ModelNParams == 0 || r.CPUCores == 0 || r.RAMBytes == 0 || r.CPUFeatures == "" {
			t.Errorf("row %d lacks machine or model info: %+v", i, r)
		}
	}
}

func TestBenchSweepExpandsEveryCombination(t *testing.T) {
	s := sweep()
	s.Threads = []int{1, 2}
	s.Batches = []int{64, 128}
	s.TypeKs = []string{"f16", "q8_0"}
	s.FlashAttn = []bool{false, true}
	insts := s.Instances()
	if want := 2 * 2 * 2 * 2 * 3; len(insts) != want {
		t.Fatalf("%d instances, want %d", len(insts), want)
	}
	seen := map[string]bool{}
	for _, in := range insts {
		key := fmt.Sprint(in.Test(), in.Threads, in.Batch, in.TypeK, in.FlashAttn)
		if seen[key] {
			t.Fatalf("combination %s twice", key)
		}
		seen[key] = true
	}
}

func TestBenchRejectsBadSweeps(t *testing.T) {
	cases := map[string]func(*runner.BenchSweep){
		"-p 0":          func(s *runner.BenchSweep) { s.Prompts = []int{0} },
		"-r 0":          func(s *runner.BenchSweep) { s.Reps = 0 },
		"-n -1":         func(s *runner.BenchSweep) { s.Gens = []int{-1} },
		"--threads 999": func(s *runner.BenchSweep) { s.Threads = []int{999} },
		"no tests":      func(s *runner.BenchSweep) { s.Prompts, s.Gens, s.PGs = nil, nil, nil },
		"kv type":       func(s *runner.BenchSweep) { s.TypeKs = []string{"q9"} },
	}
	for name, mutate := range cases {
		s := sweep()
		mutate(&s)
		rows := 0
		err := runner.RunBench(context.Background(), s, nil, func(runner.BenchRow) error { rows++; return nil })
		if err == nil || rows != 0 {
			t.Errorf("%s: err %v after %d rows", name, err, rows)
		}
	}
	// The tiny model was trained for 256 tokens: pp512 cannot run on it.
	s := sweep()
	s.Prompts, s.Gens, s.PGs = []int{512}, nil, nil
	err := runner.RunBench(context.Background(), s, nil, func(runner.BenchRow) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "trained for 256") {
		t.Errorf("pp512 on a 256-token model: %v", err)
	}
}
