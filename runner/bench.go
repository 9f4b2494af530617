package runner

// #include "loop.h"
import "C"

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"syscall"
	"time"
	"unsafe"
)

// BenchSweep is what `olm bench` was asked to run: lists of values whose every combination
// is benchmarked, as llama-bench expands its comma lists.
type BenchSweep struct {
	Models    []string // GGUF paths
	Prompts   []int    // -p: prompt-processing tests
	Gens      []int    // -n: generation tests
	PGs       [][2]int // -pg: prompt then generation, timed together
	Depths    []int    // tokens already in the cache before the test
	Threads   []int
	Batches   []int
	UBatches  []int
	TypeKs    []string
	TypeVs    []string
	FlashAttn []bool
	GPULayers []int
	Reps      int
	NoMmap    bool
	Synthetic map[string]bool // model paths whose weights are random
}

// BenchInstance is one combination: one context configuration and one test.
type BenchInstance struct {
	Model                 string
	NPrompt, NGen, NDepth int
	Threads, Batch        int
	UBatch                int
	TypeK, TypeV          string
	FlashAttn             bool
	GPULayers             int
}

// Test names the instance as llama-bench does: pp512, tg128, pp512+tg128, with "@ d512".
func (in BenchInstance) Test() string {
	var s string
	switch {
	case in.NPrompt > 0 && in.NGen > 0:
		s = fmt.Sprintf("pp%d+tg%d", in.NPrompt, in.NGen)
	case in.NPrompt > 0:
		s = fmt.Sprintf("pp%d", in.NPrompt)
	default:
		s = fmt.Sprintf("tg%d", in.NGen)
	}
	if in.NDepth > 0 {
		s += fmt.Sprintf(" @ d%d", in.NDepth)
	}
	return s
}

// Validate rejects sweeps that cannot run, before anything is loaded.
func (s BenchSweep) Validate() error {
	if len(s.Models) == 0 {
		return errors.New("bench: no model given")
	}
	if s.Reps < 1 {
		return fmt.Errorf("-r %d: at least one repetition is needed", s.Reps)
	}
	if len(s.Prompts)+len(s.Gens)+len(s.PGs) == 0 {
		return errors.New("bench: no test to run (give -p, -n or -pg)")
	}
	for _, p := range s.Prompts {
		if p < 1 {
			return fmt.Errorf("-p %d: a prompt test needs at least 1 token (use -p none to run no prompt test)", p)
		}
	}
	for _, n := range s.Gens {
		if n < 1 {
			return fmt.Errorf("-n %d: a generation test needs at least 1 token (use -n none to run no generation test)", n)
		}
	}
	for _, pg := range s.PGs {
		if pg[0] < 1 || pg[1] < 1 {
			return fmt.Errorf("-pg %d,%d: both numbers must be at least 1", pg[0], pg[1])
		}
	}
	for _, d := range s.Depths {
		if d < 0 {
			return fmt.Errorf("-d %d: depth cannot be negative", d)
		}
	}
	for _, t := range s.Threads {
		if err := ValidateThreads(t); err != nil {
			return err
		}
	}
	for _, b := range append(append([]int{}, s.Batches...), s.UBatches...) {
		if b < 1 {
			return fmt.Errorf("batch size %d: must be at least 1", b)
		}
	}
	for _, t := range append(append([]string{}, s.TypeKs...), s.TypeVs...) {
		if _, err := kvType(t); err != nil {
			return err
		}
	}
	return nil
}

// Instances expands the sweep in llama-bench's order: for each model and configuration,
// the pp tests, then tg, then pg.
func (s BenchSweep) Instances() []BenchInstance {
	var out []BenchInstance
	for _, m := range s.Models {
		for _, ngl := range s.GPULayers {
			for _, nb := range s.Batches {
				for _, nub := range s.UBatches {
					for _, tk := range s.TypeKs {
						for _, tv := range s.TypeVs {
							for _, fa := range s.FlashAttn {
								for _, nt := range s.Threads {
									for _, d := range s.Depths {
										base := BenchInstance{Model: m, NDepth: d, Threads: nt, Batch: nb, UBatch: nub,
											TypeK: tk, TypeV: tv, FlashAttn: fa, GPULayers: ngl}
										for _, p := range s.Prompts {
											in := base
											in.NPrompt = p
											out = append(out, in)
										}
										for _, n := range s.Gens {
											in := base
											in.NGen = n
											out = append(out, in)
										}
										for _, pg := range s.PGs {
											in := base
											in.NPrompt, in.NGen = pg[0], pg[1]
											out = append(out, in)
										}
									}
								}
							}
						}
					}
				}
			}
		}
	}
	return out
}

// RunBench runs every instance of the sweep and hands each finished row to onRow. Each
// instance gets a fresh context; each repetition starts from an empty KV cache after one
// warm-up; only llama_decode calls are timed, never tokenization or sampling.
func RunBench(ctx context.Context, s BenchSweep, progress func(string), onRow func(BenchRow) error) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if progress == nil {
		progress = func(string) {}
	}
	machine := DescribeMachine()
	insts := s.Instances()
	var model *Model
	var modelKey string
	var loadMs float64
	defer func() { model.Close() }()
	for i, in := range insts {
		key := fmt.Sprintf("%s|%d", in.Model, in.GPULayers)
		if key != modelKey {
			model.Close()
			model, modelKey = nil, ""
			progress(fmt.Sprintf("loading %s", filepath.Base(in.Model)))
			start := time.Now()
			m, err := LoadModel(ctx, in.Model, ModelOptions{NoMmap: s.NoMmap, GPULayers: in.GPULayers})
			if err != nil {
				return err
			}
			loadMs = float64(time.Since(start).Microseconds()) / 1000
			model, modelKey = m, key
		}
		if need := in.NPrompt + in.NGen + in.NDepth; need > model.TrainCtx() && model.TrainCtx() > 0 {
			return fmt.Errorf("%s needs a %d-token context but %s was trained for %d; lower -p/-n/-d",
				in.Test(), need, filepath.Base(in.Model), model.TrainCtx())
		}
		progress(fmt.Sprintf("[%d/%d] %s, %d threads", i+1, len(insts), in.Test(), in.Threads))
		row, err := benchOne(ctx, model, in, s.Reps)
		if err != nil {
			return fmt.Errorf("bench %s %s: %w", filepath.Base(in.Model), in.Test(), err)
		}
		machine.fill(&row)
		row.LoadMs = loadMs
		row.UseMmap = !s.NoMmap
		row.Synthetic = s.Synthetic[in.Model]
		if err := onRow(row); err != nil {
			return err
		}
	}
	return nil
}

func benchOne(ctx context.Context, m *Model, in BenchInstance, reps int) (BenchRow, error) {
	fa := FlashAttnOff
	if in.FlashAttn {
		fa = FlashAttnOn
	}
	c, err := m.NewContext(ContextOptions{Ctx: in.NPrompt + in.NGen + in.NDepth, Batch: in.Batch, UBatch: in.UBatch,
		Threads: in.Threads, FlashAttn: fa, TypeK: in.TypeK, TypeV: in.TypeV})
	if err != nil {
		return BenchRow{}, err
	}
	defer c.Close()
	buf := make([]Token, c.nBatch)
	seed := C.unsigned(42)
	prompt := func(n, pos0 int) error {
		if rc := C.olm_bench_prompt(c.c, &c.batch, (*C.llama_token)(unsafe.Pointer(&buf[0])), C.int(n), C.int(c.nBatch), C.int(pos0), &seed); rc != 0 {
			return decodeError(rc)
		}
		return nil
	}
	gen := func(n, pos0 int) error {
		if rc := C.olm_bench_gen(c.c, &c.batch, C.int(n), C.int(pos0), &seed); rc != 0 {
			return decodeError(rc)
		}
		return nil
	}
	// Warm-up: the prompt at full length, then one generated token.
	if in.NPrompt > 0 {
		if err := prompt(in.NPrompt, 0); err != nil {
			return BenchRow{}, err
		}
	}
	if in.NGen > 0 {
		if err := gen(1, in.NPrompt); err != nil {
			return BenchRow{}, err
		}
	}
	samples := make([]uint64, 0, reps)
	for range reps {
		if err := ctx.Err(); err != nil {
			return BenchRow{}, err
		}
		c.Reset()
		if in.NDepth > 0 {
			if err := prompt(in.NDepth, 0); err != nil {
				return BenchRow{}, err
			}
		}
		start := time.Now()
		if in.NPrompt > 0 {
			if err := prompt(in.NPrompt, in.NDepth); err != nil {
				return BenchRow{}, err
			}
		}
		if in.NGen > 0 {
			if err := gen(in.NGen, in.NDepth+in.NPrompt); err != nil {
				return BenchRow{}, err
			}
		}
		samples = append(samples, uint64(time.Since(start).Nanoseconds()))
	}
	c.cached = c.cached[:0] // the bench decodes bypass the record; the cache content is junk

	row := BenchRow{
		BuildCommit: LlamaCommit, Backends: Backends(), GPUInfo: GPUInfo(),
		ModelFilename: m.Path(), ModelType: m.Desc(), ModelSize: m.Size(), ModelNParams: m.NParams(),
		NBatch: in.Batch, NUBatch: in.UBatch, NThreads: in.Threads,
		TypeK: orDefault(in.TypeK, "f16"), TypeV: orDefault(in.TypeV, "f16"),
		NGPULayers: in.GPULayers, FlashAttn: in.FlashAttn,
		NPrompt: in.NPrompt, NGen: in.NGen, NDepth: in.NDepth,
		TestTime: time.Now().UTC().Format(time.RFC3339), Test: in.Test(), Repetitions: reps,
	}
	row.setSamples(samples)
	if in.NPrompt > 0 {
		ttft, err := timeToFirstToken(ctx, c, in.NPrompt)
		if err != nil {
			return BenchRow{}, err
		}
		row.TTFTMs = float64(ttft.Microseconds()) / 1000
	}
	row.PeakRSS = peakRSS()
	return row, nil
}

// timeToFirstToken is what a user waits for: evaluating an n-token prompt and sampling the
// first token of the answer.
func timeToFirstToken(ctx context.Context, c *Context, n int) (time.Duration, error) {
	s, err := NewSampler(DefaultSampling())
	if err != nil {
		return 0, err
	}
	defer s.Close()
	prompt := make([]Token, n)
	for i := range prompt {
		prompt[i] = Token((i*7919 + 13) % c.model.NVocab())
	}
	c.Reset()
	res, err := c.Generate(ctx, prompt, GenerateOptions{MaxTokens: 1, Sampler: s}, nil)
	c.Reset()
	return res.PromptTime, err
}

// setSamples fills the averages from the per-repetition times, as llama-bench computes
// them: t/s per sample, then mean and sample standard deviation of each.
func (r *BenchRow) setSamples(ns []uint64) {
	toks := float64(r.NPrompt + r.NGen)
	r.SamplesNs = ns
	r.SamplesTs = make([]float64, len(ns))
	var nsf []float64
	for i, v := range ns {
		r.SamplesTs[i] = toks * 1e9 / float64(v)
		nsf = append(nsf, float64(v))
	}
	avg, sd := meanStd(nsf)
	r.AvgNs, r.StddevNs = uint64(avg), uint64(sd)
	r.AvgTs, r.StddevTs = meanStd(r.SamplesTs)
}

func meanStd(v []float64) (mean, std float64) {
	if len(v) == 0 {
		return 0, 0
	}
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	if len(v) < 2 {
		return mean, 0
	}
	for _, x := range v {
		std += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(std / float64(len(v)-1))
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// peakRSS is the process's peak resident set size in bytes.
func peakRSS() uint64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return uint64(ru.Maxrss) * 1024 // kilobytes on Linux
}
