package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/olm-dev/olm/engine"
	"github.com/olm-dev/olm/grammar"
	"github.com/olm-dev/olm/runner"
)

// genFlags are the model, context and sampling flags that run, chat and bench share.
type genFlags struct {
	maxTokens int
	ctx       int
	threads   int
	batch     int
	gpuLayers int
	noMmap    bool
	mlock     bool
	stop      []string
	sampling  runner.SamplingParams
	format    string // --format: json, or a JSON Schema file; validate puts its grammar in sampling
	seedSet   bool
	fs        *pflag.FlagSet

	// Without --threads, the CPU load during the model's load decides the thread count.
	load    *runner.LoadWatch
	notices io.Writer
	// The machine seam of that choice (nil: runner.SampleCPU and runner.PhysicalCores), so
	// tests can play a busy machine.
	sampleCPU func() (runner.CPUSample, error)
	cores     func() int
}

func (f *genFlags) register(fs *pflag.FlagSet) {
	d := runner.DefaultSampling()
	f.fs = fs
	fs.IntVarP(&f.maxTokens, "max-tokens", "n", -1, "tokens to generate (-1: until the model stops or the context is full)")
	fs.IntVar(&f.ctx, "ctx", 0, "context size in tokens (default: the model's training context, at most 4096)")
	fs.IntVarP(&f.threads, "threads", "t", 0, fmt.Sprintf("CPU threads (default: one per physical core not kept busy by other processes; %d here when idle)", runner.PhysicalCores()))
	fs.IntVar(&f.batch, "batch", 2048, "prompt tokens evaluated per decode")
	fs.IntVar(&f.gpuLayers, "gpu-layers", runner.AutoGPULayers, "offload `N` layers to the GPU: -1 as many as fit, 0 none (GPU support: make cuda)")
	fs.BoolVar(&f.noMmap, "no-mmap", false, "read the model into memory instead of mapping it")
	fs.BoolVar(&f.mlock, "mlock", false, "keep the model locked in RAM")
	fs.StringArrayVar(&f.stop, "stop", nil, "stop at this string (repeatable); it is not printed")
	fs.Float64Var(&f.sampling.Temp, "temp", d.Temp, "temperature (0: greedy)")
	fs.IntVar(&f.sampling.TopK, "top-k", d.TopK, "keep the k most likely tokens (0: off)")
	fs.Float64Var(&f.sampling.TopP, "top-p", d.TopP, "nucleus sampling threshold (1: off)")
	fs.Float64Var(&f.sampling.MinP, "min-p", d.MinP, "drop tokens below this fraction of the best one (0: off)")
	fs.Float64Var(&f.sampling.RepeatPenalty, "repeat-penalty", d.RepeatPenalty, "penalty for repeated tokens (1: off)")
	fs.IntVar(&f.sampling.RepeatLastN, "repeat-last-n", d.RepeatLastN, "tokens the repeat penalty looks back over (-1: whole context)")
	fs.Float64Var(&f.sampling.FreqPenalty, "frequency-penalty", 0, "frequency penalty (0: off)")
	fs.Float64Var(&f.sampling.PresPenalty, "presence-penalty", 0, "presence penalty (0: off)")
	fs.Int64Var(&f.sampling.Seed, "seed", -1, "random seed (-1: random)")
	fs.StringVar(&f.format, "format", "", "constrain the output: json (any JSON object) or `FILE`, a JSON Schema; the text always parses")
}

// formatName is --format as /show names it ("" when off).
func (f *genFlags) formatName() string {
	if f.sampling.Grammar == "" {
		return ""
	}
	return f.format
}

// validate checks what can be checked before a model is loaded.
func (f *genFlags) validate() error {
	switch {
	case f.fs.Changed("ctx") && f.ctx <= 0:
		return fmt.Errorf("--ctx %d: the context must hold at least one token (leave it out for the model's default)", f.ctx)
	case f.batch <= 0:
		return fmt.Errorf("--batch %d: must be positive", f.batch)
	case f.maxTokens < -1 || f.maxTokens == 0:
		return fmt.Errorf("--max-tokens %d: must be positive, or -1 for no limit", f.maxTokens)
	case f.gpuLayers < -1:
		return fmt.Errorf("--gpu-layers %d: must be 0 or more, or -1 for as many as fit", f.gpuLayers)
	}
	if f.format != "" {
		g, err := grammar.ParseFormat(f.format)
		if err != nil {
			return fmt.Errorf("--%w", err)
		}
		f.sampling.Grammar, f.sampling.GrammarRoot = g.Text, g.Root
	}
	if f.fs.Changed("threads") {
		if err := runner.ValidateThreads(f.threads); err != nil {
			return err
		}
	}
	return f.sampling.Validate()
}

// modelOptions are the load flags; on a terminal the load shows its progress on stderr,
// since a 7B model can take seconds to map and repack.
func (f *genFlags) modelOptions(ios *ioStreams) runner.ModelOptions {
	o := runner.ModelOptions{NoMmap: f.noMmap, Mlock: f.mlock, GPULayers: f.gpuLayers, FitContext: f.ctx}
	if !f.fs.Changed("threads") {
		cores := 0
		if f.cores != nil {
			cores = f.cores()
		}
		f.load = runner.WatchLoad(f.sampleCPU, cores)
		f.notices = ios.Err
	}
	if ios.ErrTTY {
		last := -1
		o.Progress = func(p float64) {
			if pct := int(p * 100); pct != last {
				last = pct
				fmt.Fprintf(ios.Err, "\rloading model %3d%%", pct)
				if pct == 100 {
					fmt.Fprint(ios.Err, "\r\033[K")
				}
			}
		}
	}
	return o
}

func (f *genFlags) contextOptions(m *runner.Model) runner.ContextOptions {
	n := f.ctx
	if n == 0 {
		n = engine.DefaultContext(m.TrainCtx())
	}
	return runner.ContextOptions{Ctx: n, Batch: f.batch, Threads: f.threadCount()}
}

// threadCount is --threads, or else what the load during the model's load leaves free.
func (f *genFlags) threadCount() int {
	if f.threads != 0 || f.load == nil {
		return f.threads // 0: llama.cpp's default, one per physical core
	}
	threads, note := f.load.Threads()
	if note != "" {
		fmt.Fprintln(f.notices, "olm: "+note)
	}
	return threads
}

// warnNoGPU tells users without a usable GPU that --gpu-layers cannot do
// anything, and why; the model still runs, on the CPU.
func (f *genFlags) warnNoGPU(w io.Writer) {
	if !f.fs.Changed("gpu-layers") || f.gpuLayers == 0 {
		return // the default offloads what fits, and needs no GPU
	}
	if why := runner.NoGPUReason(); why != "" {
		fmt.Fprintf(w, "olm: --gpu-layers is ignored and the model runs on the CPU: %s\n", why)
	}
}

type runOptions struct {
	ios    *ioStreams
	global *globalOptions
	model  string
	prompt string
	hasArg bool
	gen    genFlags
}

func newRunCmd(ios *ioStreams, g *globalOptions, runF func(context.Context, *runOptions) error) *cobra.Command {
	o := &runOptions{ios: ios, global: g}
	cmd := &cobra.Command{
		Use:   "run MODEL [PROMPT]",
		Short: "Complete a prompt with a model (raw text, no chat template)",
		Long: "Run a model on a prompt and stream the completion to stdout.\n\n" +
			"MODEL is a catalog name (olm catalog), hf.co/OWNER/REPO[:QUANT], an imported name or a GGUF path;\n" +
			"a model not on this machine is pulled first. The prompt comes from the argument or, when piped, from stdin.\n" +
			"Only the model's text goes to stdout; everything else goes to stderr.",
		Example: "  olm run ./tinyllama.gguf \"Once upon a time\" -n 64\n  echo 'The capital of France is' | olm run ./model.gguf --temp 0",
		Args:    argsBetween(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.model = args[0]
			if len(args) == 2 {
				o.prompt, o.hasArg = args[1], true
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runRun(cmd.Context(), o)
		},
	}
	o.gen.register(cmd.Flags())
	return cmd
}

func runRun(ctx context.Context, o *runOptions) error {
	if err := o.gen.validate(); err != nil {
		return err
	}
	prompt, err := readPrompt(o)
	if err != nil {
		return err
	}
	o.gen.warnNoGPU(o.ios.Err)
	rm, err := resolveModel(ctx, o.ios, o.model)
	if err != nil {
		return err
	}
	m, err := engine.Open(ctx, engine.OpenOptions{Name: rm.Name, Path: rm.Path, Raw: true,
		Model: o.gen.modelOptions(o.ios), Context: o.gen.contextOptions})
	if err != nil {
		return err
	}
	defer m.Close()
	toks, err := m.LM.Tokenize(prompt, true, false)
	if err != nil {
		return err
	}
	req := engine.Request{Prompt: toks, Sampling: o.gen.sampling, MaxTokens: o.gen.maxTokens, Stop: o.gen.stop}
	res, err := m.Engine.Generate(ctx, req, func(b []byte) error { _, err := o.ios.Out.Write(b); return err })
	if err != nil {
		return err
	}
	if o.ios.OutTTY {
		fmt.Fprintln(o.ios.Out)
	}
	if o.global.verbose {
		printStats(o.ios.Err, res.Result)
	}
	switch res.Reason {
	case runner.StopCancelled:
		return errInterrupted
	case runner.StopContextFull:
		fmt.Fprintf(o.ios.Err, "olm: stopped: the context is full (%d tokens); raise --ctx for longer output\n", res.CtxSize)
	}
	return nil
}

// readPrompt takes the prompt argument, else stdin when it is not a terminal.
func readPrompt(o *runOptions) (string, error) {
	p := o.prompt
	if !o.hasArg {
		if o.ios.InTTY {
			return "", errors.New("no prompt: give one as an argument or pipe it on stdin")
		}
		b, err := io.ReadAll(o.ios.In)
		if err != nil {
			return "", fmt.Errorf("read prompt from stdin: %w", err)
		}
		p = string(b)
	}
	if strings.TrimSpace(p) == "" {
		return "", errors.New("empty prompt: give some text as an argument or on stdin")
	}
	return p, nil
}

// printStats shows where the time went, with llama.cpp's own decode time beside olm's wall
// time so the loop's overhead is visible.
func printStats(w io.Writer, r runner.Result) {
	fmt.Fprintf(w, "prompt:     %d tokens (%d from cache), %.2f t/s; llama_decode %.2f t/s\n",
		r.PromptTokens, r.PromptTokens-r.PromptEvaluated, r.PromptTPS(), r.Perf.PromptTPS())
	fmt.Fprintf(w, "generation: %d tokens, %.2f t/s; llama_decode %.2f t/s (%d decodes)\n",
		r.GenTokens, r.GenTPS(), r.Perf.GenTPS(), r.Perf.GenTokens)
	fmt.Fprintf(w, "time to first token: %s; stop: %s\n", r.PromptTime.Round(1e6), r.Reason)
}
