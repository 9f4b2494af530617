package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/olm-dev/olm/models"
	"github.com/olm-dev/olm/runner"
	"github.com/olm-dev/olm/synth"
)

func TestBenchJSONRowsAndSave(t *testing.T) {
	save := filepath.Join(t.TempDir(), "base.json")
	out, errOut, code := runOLM(t, "", "bench", tinyModel, "-p", "16", "-n", "8", "-pg", "8,4", "-r", "2", "-t", "1", "-o", "json", "--save", save)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rows []runner.BenchRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("-o json is not one JSON array: %v\n%s", err, out)
	}
	want := [][2]int{{16, 0}, {0, 8}, {8, 4}}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(rows), len(want))
	}
	for i, r := range rows {
		if r.NPrompt != want[i][0] || r.NGen != want[i][1] || r.AvgTs <= 0 || len(r.SamplesTs) != 2 || r.NThreads != 1 {
			t.Errorf("row %d: p%d n%d %v t/s, %d samples, %d threads", i, r.NPrompt, r.NGen, r.AvgTs, len(r.SamplesTs), r.NThreads)
		}
	}
	saved, err := os.ReadFile(save)
	if err != nil {
		t.Fatal(err)
	}
	var back []runner.BenchRow
	if err := json.Unmarshal(saved, &back); err != nil || len(back) != 3 {
		t.Fatalf("--save wrote %d rows: %v", len(back), err)
	}
	// A later run compares against it, row by row.
	md, errOut, code := runOLM(t, "", "bench", tinyModel, "-p", "16", "-n", "8", "-pg", "8,4", "-r", "2", "-t", "1", "--baseline", save)
	if code != 0 || strings.Count(md, "x |") != 3 {
		t.Fatalf("exit %d, baseline table:\n%s%s", code, md, errOut)
	}
}

func TestBenchSweepRunsEveryCombination(t *testing.T) {
	out, errOut, code := runOLM(t, "", "bench", tinyModel, "-p", "8", "-n", "4", "-r", "1", "-t", "1,2", "-b", "32,64", "-o", "jsonl")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2*2*2 {
		t.Fatalf("%d rows, want 8:\n%s", len(lines), out)
	}
	seen := map[string]bool{}
	for _, l := range lines {
		var r runner.BenchRow
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
		seen[r.Test+"/"+itoa(r.NThreads)+"/"+itoa(r.NBatch)] = true
	}
	if len(seen) != 8 {
		t.Fatalf("combinations %v", seen)
	}
}

func TestBenchBadInputWritesNothing(t *testing.T) {
	dir := t.TempDir()
	save := filepath.Join(dir, "out.json")
	plot := filepath.Join(dir, "out.svg")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{filepath.Join(dir, "none.gguf")}, "no such file"},
		{[]string{tinyModel, "-p", "0"}, "-p 0"},
		{[]string{tinyModel, "-r", "0"}, "-r 0"},
		{[]string{tinyModel, "-n", "x"}, "not a whole number"},
		{[]string{tinyModel, "-o", "xml"}, "unknown format"},
		{[]string{tinyModel, "-pg", "5"}, "--pg 5"},
		{[]string{tinyModel, "-fa", "2"}, "--flash-attn 2"},
		{[]string{tinyModel, "-t", "999"}, "--threads 999"},
		{[]string{tinyModel, "-ngl", "-5"}, "--gpu-layers -5: layer counts must be 0 or more"},
		{[]string{tinyModel, "-p", "512", "-n", "none"}, "trained for 256"},
		{[]string{"--synthetic", "no-such-model"}, "unknown model"},
	}
	for _, tc := range cases {
		args := append([]string{"bench", "-r", "1", "--save", save, "--plot", plot}, tc.args...)
		out, errOut, code := runOLM(t, "", args...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want it to mention %q", tc.args, code, errOut, tc.want)
		}
		if out != "" {
			t.Errorf("%v: printed results %q", tc.args, out)
		}
		for _, f := range []string{save, plot} {
			if _, err := os.Stat(f); err == nil {
				t.Fatalf("%v: a failed bench left %s", tc.args, f)
			}
		}
	}
}

// Every catalog model with shapes can be synthesized: its shape family exists and its
// default quantization is one synth writes.
func TestCatalogShapesAreSynthesizable(t *testing.T) {
	cat, err := models.LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, name := range cat.Names() {
		m, _ := cat.Lookup(name)
		if m.ShapeName == "" {
			continue
		}
		s, ok := synth.Shape(m.ShapeName)
		if !ok {
			t.Errorf("%s: shape %q unknown to synth", m.ID, m.ShapeName)
			continue
		}
		if _, err := synth.ParseFileType(m.DefaultQuant); err != nil {
			t.Errorf("%s: default quant %s: %v", m.ID, m.DefaultQuant, err)
		}
		if s.Arch != m.Arch {
			t.Errorf("%s: architecture %s, its shape %s", m.ID, m.Arch, s.Arch)
		}
		n++
	}
	if n < 10 {
		t.Fatalf("only %d catalog models have shapes", n)
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// --synthetic checks RAM and disk before writing gigabytes, and leaves nothing behind.
func TestBenchSyntheticChecksRAMAndDisk(t *testing.T) {
	_, olmHome := modelEnv(t, "http://127.0.0.1:1")
	run := func(ram, free uint64) (string, error) {
		var errb strings.Builder
		ios := &ioStreams{In: strings.NewReader(""), Out: &strings.Builder{}, Err: &errb}
		cmd := newBenchCmd(ios, func(ctx context.Context, o *benchOptions) error {
			o.totalRAM = func() uint64 { return ram }
			o.freeSpace = func(string) (uint64, error) { return free, nil }
			return runBench(ctx, o)
		})
		cmd.SetArgs([]string{"--synthetic", "mistral", "-r", "1"})
		cmd.SetOut(ios.Out)
		cmd.SetErr(ios.Err)
		err := cmd.ExecuteContext(context.Background())
		return errb.String(), err
	}
	if _, err := run(1<<30, 1<<40); err == nil || !strings.Contains(err.Error(), "of RAM, this machine has 1.0 GiB") {
		t.Errorf("1 GiB of RAM: %v", err)
	}
	if _, err := run(1<<40, 100<<20); err == nil || !strings.Contains(err.Error(), "only 100.0 MiB is free") {
		t.Errorf("100 MiB of disk: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Join(olmHome, "synthetic"))
	if len(entries) != 0 {
		t.Fatalf("refused syntheses left %d files", len(entries))
	}
}

// TestBenchParallel: --parallel prints llama-batched-bench's fields, one row per sequence
// count, with every time and speed measured.
func TestBenchParallel(t *testing.T) {
	out, errOut, code := runOLM(t, "", "bench", tinyModel, "--parallel", "1,3", "-p", "8", "-n", "4", "-r", "1", "-t", "1", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(rows) != 2 || rows[0]["pl"] != 1.0 || rows[1]["pl"] != 3.0 {
		t.Fatalf("rows %v", rows)
	}
	for _, r := range rows {
		for _, f := range []string{"t_pp", "speed_pp", "t_tg", "speed_tg", "t", "speed"} {
			if v, ok := r[f].(float64); !ok || v <= 0 {
				t.Errorf("row pl=%v: %s = %v", r["pl"], f, r[f])
			}
		}
		if r["n_kv"] != r["pl"].(float64)*12 {
			t.Errorf("n_kv %v for pl %v", r["n_kv"], r["pl"])
		}
	}
	md, _, code := runOLM(t, "", "bench", tinyModel, "--parallel", "2", "-p", "8", "-n", "4", "-r", "1", "-t", "1")
	if code != 0 || !strings.Contains(md, "S_TG t/s") || !strings.Contains(md, "|      8 |      4 |    2 |") {
		t.Fatalf("markdown:\n%s", md)
	}
	mustFail(t, []string{"bench", tinyModel, "--parallel", "2", "--pg", "8,4"}, "--parallel", "--pg")
}
