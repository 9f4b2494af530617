package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/olm-dev/olm/benchout"
	"github.com/olm-dev/olm/download"
	"github.com/olm-dev/olm/engine"
	"github.com/olm-dev/olm/models"
	"github.com/olm-dev/olm/runner"
	"github.com/olm-dev/olm/synth"
)

type benchOptions struct {
	ios    *ioStreams
	models []string

	prompts, gens, depths, threads, batches, ubatches, gpuLayers string
	typeK, typeV, flashAttn                                      string
	pgs                                                          []string
	reps                                                         int
	noMmap                                                       bool
	output, save, baseline, plot                                 string
	synthetic                                                    bool
	parallel                                                     string

	// The machine seams of --synthetic, so tests can play a small disk or RAM.
	totalRAM  func() uint64
	freeSpace func(dir string) (uint64, error)
}

func newBenchCmd(ios *ioStreams, runF func(context.Context, *benchOptions) error) *cobra.Command {
	o := &benchOptions{ios: ios, totalRAM: func() uint64 { return runner.DescribeMachine().RAM }, freeSpace: freeSpace}
	cmd := &cobra.Command{
		Use:   "bench MODEL...",
		Short: "Measure prompt and generation speed (tokens/s), as llama-bench does",
		Long: "Benchmark models with llama-bench's method: for every combination of the comma lists given,\n" +
			"a fresh context, one warm-up, then -r timed repetitions of prompt processing (pp), generation (tg)\n" +
			"or both (pg). Only llama_decode is timed; results are mean ± standard deviation in tokens/s.\n" +
			"Load time, time to first token and peak memory are reported too.\n\n" +
			"With --synthetic, MODEL is a catalog name whose exact shapes and quantization are written as a\n" +
			"random-weight model (cached under OLM_HOME) and benchmarked before anything is downloaded:\n" +
			"speed depends on shapes and quantization, not on weight values. Rows are marked synthetic.\n\n" +
			"llama-bench's spellings -pg, -ub, -fa, -ngl, -ctk, -ctv are accepted too.",
		Example: "  olm bench --synthetic mistral\n" +
			"  olm bench ./tinyllama.Q4_0.gguf -t 1,2 -p 512 -n 128 -o json --save base.json\n" +
			"  olm bench ./tinyllama.Q4_0.gguf --baseline base.json --plot speed.svg",
		Args: argsBetween(1, -1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.models = args
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runBench(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.prompts, "n-prompt", "p", "512", "prompt lengths for pp tests (comma list; none: no pp test)")
	f.StringVarP(&o.gens, "n-gen", "n", "128", "generated tokens for tg tests (comma list; none: no tg test)")
	f.StringArrayVar(&o.pgs, "pg", nil, "prompt,generation pair for a pg test (repeatable), e.g. 512,128")
	f.StringVarP(&o.depths, "n-depth", "d", "0", "tokens already in the KV cache (comma list)")
	f.StringVarP(&o.threads, "threads", "t", strconv.Itoa(runner.PhysicalCores()), "threads (comma list)")
	f.StringVarP(&o.batches, "batch", "b", "2048", "logical batch sizes (comma list)")
	f.StringVar(&o.ubatches, "ubatch", "512", "physical batch sizes (comma list)")
	f.StringVar(&o.typeK, "ctk", "f16", "KV cache key types (comma list)")
	f.StringVar(&o.typeV, "ctv", "f16", "KV cache value types (comma list)")
	f.StringVar(&o.flashAttn, "flash-attn", "0", "flash attention off/on (comma list of 0,1)")
	f.StringVar(&o.gpuLayers, "gpu-layers", "auto", "layers offloaded to the GPU (comma list; auto: 99 with a GPU, as llama-bench, else 0)")
	f.IntVarP(&o.reps, "repetitions", "r", 5, "timed repetitions per test")
	f.BoolVar(&o.noMmap, "no-mmap", false, "read models into memory instead of mapping them")
	f.StringVarP(&o.output, "output", "o", "md", "output format: md, csv, json, jsonl")
	f.StringVar(&o.save, "save", "", "also save the results as JSON to this file")
	f.StringVar(&o.baseline, "baseline", "", "compare with results saved earlier (json, jsonl or csv)")
	f.StringVar(&o.plot, "plot", "", "draw t/s per test to this .svg or .png file")
	f.BoolVar(&o.synthetic, "synthetic", false, "bench catalog models before downloading them (random weights, real shapes)")
	f.StringVar(&o.parallel, "parallel", "", "batched test: N sequences of -p prompt tokens, then -n tokens each decoded together (comma list), as llama-batched-bench")
	return cmd
}

// llamaBenchFlags maps llama-bench's single-dash long flags, which pflag cannot parse, to ours.
var llamaBenchFlags = map[string]string{"-pg": "--pg", "-ub": "--ubatch", "-fa": "--flash-attn", "-ngl": "--gpu-layers",
	"-ctk": "--ctk", "-ctv": "--ctv"}

func normalizeBenchArgs(args []string) []string {
	if len(args) == 0 || args[0] != "bench" {
		return args
	}
	out := slices.Clone(args)
	for i, a := range out {
		name, val, hasVal := strings.Cut(a, "=")
		if long, ok := llamaBenchFlags[name]; ok {
			out[i] = long
			if hasVal {
				out[i] += "=" + val
			}
		}
	}
	return out
}

func runBench(ctx context.Context, o *benchOptions) error {
	sweep, err := o.sweep()
	if err != nil {
		return err
	}
	if !slices.Contains([]string{"md", "csv", "json", "jsonl"}, o.output) {
		return fmt.Errorf("-o %s: unknown format; use md, csv, json or jsonl", o.output)
	}
	var base []runner.BenchRow
	if o.baseline != "" {
		if base, err = readBaseline(o.baseline); err != nil {
			return err
		}
	}
	sweep.Synthetic = map[string]bool{}
	sweep.Models = nil
	for _, name := range o.models {
		var path string
		if o.synthetic {
			path, err = o.syntheticModel(ctx, name)
			sweep.Synthetic[path] = true
		} else {
			var rm resolvedModel
			rm, err = resolveModel(ctx, o.ios, name)
			path = rm.Path
		}
		if err != nil {
			return err
		}
		sweep.Models = append(sweep.Models, path)
	}
	var rows []runner.BenchRow
	progress := func(s string) {
		if o.ios.ErrTTY {
			fmt.Fprintf(o.ios.Err, "\r\033[K%s", s)
		}
	}
	if o.parallel != "" {
		return o.runBatched(ctx, sweep, progress)
	}
	err = runner.RunBench(ctx, sweep, progress, func(r runner.BenchRow) error { rows = append(rows, r); return nil })
	if o.ios.ErrTTY {
		fmt.Fprint(o.ios.Err, "\r\033[K")
	}
	if err != nil {
		return err // nothing is written: no partial result files
	}
	if err := benchout.WriteWith(o.ios.Out, o.output, rows, benchout.Options{Baseline: base}); err != nil {
		return err
	}
	if o.save != "" {
		if err := benchout.Save(o.save, rows); err != nil {
			return err
		}
	}
	if o.plot != "" {
		if err := benchout.Plot(o.plot, rows); err != nil {
			return err
		}
	}
	return nil
}

func readBaseline(path string) ([]runner.BenchRow, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--baseline: %w", err)
	}
	defer f.Close()
	rows, err := benchout.Read(f)
	if err != nil {
		return nil, fmt.Errorf("--baseline %s: %w", path, err)
	}
	return rows, nil
}

// sweep parses the comma lists.
func (o *benchOptions) sweep() (runner.BenchSweep, error) {
	s := runner.BenchSweep{Reps: o.reps, NoMmap: o.noMmap}
	var err error
	ints := func(flag, v string, dst *[]int) {
		if err == nil {
			*dst, err = parseIntList(flag, v)
		}
	}
	ints("-p", o.prompts, &s.Prompts)
	ints("-n", o.gens, &s.Gens)
	ints("-d", o.depths, &s.Depths)
	ints("-t", o.threads, &s.Threads)
	ints("-b", o.batches, &s.Batches)
	ints("--ubatch", o.ubatches, &s.UBatches)
	if o.gpuLayers == "auto" {
		s.GPULayers = []int{0}
		if runner.SupportsGPU() {
			s.GPULayers = []int{99}
		}
	} else {
		ints("--gpu-layers", o.gpuLayers, &s.GPULayers)
	}
	if err != nil {
		return s, err
	}
	for _, pg := range o.pgs {
		v, err := parseIntList("--pg", pg)
		if err != nil || len(v) != 2 {
			return s, fmt.Errorf("--pg %s: want two numbers, prompt and generation, e.g. 512,128", pg)
		}
		s.PGs = append(s.PGs, [2]int{v[0], v[1]})
	}
	s.Models = o.models // validated as names now, replaced by paths once resolved
	s.TypeKs = strings.Split(o.typeK, ",")
	s.TypeVs = strings.Split(o.typeV, ",")
	for _, v := range strings.Split(o.flashAttn, ",") {
		switch strings.TrimSpace(v) {
		case "0", "off", "false":
			s.FlashAttn = append(s.FlashAttn, false)
		case "1", "on", "true":
			s.FlashAttn = append(s.FlashAttn, true)
		default:
			return s, fmt.Errorf("--flash-attn %s: use 0, 1 or 0,1", o.flashAttn)
		}
	}
	if slices.ContainsFunc(s.GPULayers, func(n int) bool { return n < 0 }) {
		return s, fmt.Errorf("--gpu-layers %s: layer counts must be 0 or more (99: all)", o.gpuLayers)
	}
	// Rows that say n_gpu_layers 99 but ran on the CPU would mislead whoever
	// compares them, so unlike run and chat, bench refuses.
	if slices.ContainsFunc(s.GPULayers, func(n int) bool { return n != 0 }) {
		if why := runner.NoGPUReason(); why != "" {
			return s, fmt.Errorf("--gpu-layers %s: nothing to offload to: %s", o.gpuLayers, why)
		}
	}
	return s, s.Validate()
}

// parseIntList reads "512", "128,256,512" or "none" (an empty list).
func parseIntList(flag, v string) ([]int, error) {
	if strings.TrimSpace(v) == "none" {
		return nil, nil
	}
	var out []int
	for _, part := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil {
			return nil, fmt.Errorf("%s %s: %q is not a whole number", flag, v, part)
		}
		out = append(out, n)
	}
	return out, nil
}

// syntheticModel writes (once) a random-weight model with the exact shapes and
// quantization of a catalog entry, and returns its path.
func (o *benchOptions) syntheticModel(ctx context.Context, name string) (string, error) {
	env, err := models.EnvFromOS()
	if err != nil {
		return "", err
	}
	cat, err := models.LoadCatalog()
	if err != nil {
		return "", err
	}
	ref, err := models.Resolver{Catalog: cat, Env: env}.Resolve(ctx, name)
	if err != nil {
		return "", err
	}
	if ref.Model == nil {
		return "", fmt.Errorf("--synthetic %s: not a catalog model; --synthetic benches catalog models (see olm catalog) before download", name)
	}
	spec, ok := ref.Model.Spec()
	if !ok {
		return "", fmt.Errorf("--synthetic %s: the catalog has no tensor shapes for %s yet", name, ref.Model.ID)
	}
	ft, err := synth.ParseFileType(ref.Quant)
	if err != nil {
		return "", fmt.Errorf("--synthetic %s: %w", name, err)
	}
	spec.FileType = ft
	spec.NCtx = max(spec.NCtx, ref.Model.Context)
	path := filepath.Join(env.OlmHome, "synthetic", fmt.Sprintf("%s-%s.gguf", ref.Model.ShapeName, strings.ToLower(ref.Quant)))
	size, err := synth.FileSize(spec)
	if err != nil {
		return "", err
	}
	if st, err := os.Stat(path); err == nil && st.Size() == size {
		return path, nil
	}
	if ram := o.totalRAM(); ram > 0 && uint64(size) > ram {
		return "", fmt.Errorf("--synthetic %s: the model needs %s of RAM, this machine has %s", name, download.HumanBytes(size), download.HumanBytes(int64(ram)))
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	if free, err := o.freeSpace(filepath.Dir(path)); err == nil && free < uint64(size) {
		return "", fmt.Errorf("--synthetic %s: writing the model needs %s free in %s, only %s is free",
			name, download.HumanBytes(size), filepath.Dir(path), download.HumanBytes(int64(free)))
	}
	fmt.Fprintf(o.ios.Err, "writing a synthetic %s (%s, %s, random weights) to %s\n", ref.Model.ID, ref.Quant, download.HumanBytes(size), path)
	if err := runner.WriteSynthetic(ctx, path, spec); err != nil {
		if errors.Is(err, context.Canceled) {
			return "", err
		}
		return "", fmt.Errorf("write synthetic %s: %w", name, err)
	}
	return path, nil
}

func freeSpace(dir string) (uint64, error) {
	var fs syscall.Statfs_t
	if err := syscall.Statfs(dir, &fs); err != nil {
		return 0, err
	}
	return fs.Bavail * uint64(fs.Bsize), nil
}

// runBatched is olm bench --parallel: the engine's continuous batching measured with
// llama-batched-bench's fields, per model, thread count and sequence count.
func (o *benchOptions) runBatched(ctx context.Context, sweep runner.BenchSweep, progress func(string)) error {
	pls, err := parseIntList("--parallel", o.parallel)
	if err != nil {
		return err
	}
	if o.save != "" || o.baseline != "" || o.plot != "" || len(sweep.PGs) > 0 || len(sweep.Depths) > 1 || sweep.Depths[0] != 0 {
		return errors.New("--parallel prints its own rows: --save, --baseline, --plot, --pg and -d do not apply to it")
	}
	if len(sweep.Prompts) == 0 || len(sweep.Gens) == 0 {
		return errors.New("--parallel needs both -p and -n (prompt and generated tokens per sequence)")
	}
	var rows []engine.BatchedRow
	for _, path := range sweep.Models {
		for _, ngl := range sweep.GPULayers {
			progress(fmt.Sprintf("loading %s", filepath.Base(path)))
			m, err := runner.LoadModel(ctx, path, runner.ModelOptions{NoMmap: sweep.NoMmap, GPULayers: ngl})
			if err != nil {
				return err
			}
			for _, t := range sweep.Threads {
				progress(fmt.Sprintf("batched %s, %d threads", filepath.Base(path), t))
				err = engine.RunBatchedBench(ctx, m, engine.BatchedBench{Prompts: sweep.Prompts, Gens: sweep.Gens, Parallel: pls,
					Threads: t, Batch: sweep.Batches[0], Reps: sweep.Reps}, func(r engine.BatchedRow) error { rows = append(rows, r); return nil })
				if err != nil {
					break
				}
			}
			m.Close()
			if err != nil {
				return err
			}
		}
	}
	if o.ios.ErrTTY {
		fmt.Fprint(o.ios.Err, "\r\033[K")
	}
	return benchout.WriteBatched(o.ios.Out, o.output, rows)
}
