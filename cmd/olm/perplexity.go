package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"

	"github.com/olm-dev/olm/perplexity"
	"github.com/olm-dev/olm/runner"
)

type perplexityOptions struct {
	ios       *ioStreams
	model     string
	file      string // "" or "-": stdin
	ctx       int
	batch     int
	threads   int
	chunks    int
	gpuLayers int
	jsonOut   bool
	klBase    string
	saveTo    string
	ctxSet    bool
}

func newPerplexityCmd(ios *ioStreams, runF func(context.Context, *perplexityOptions) error) *cobra.Command {
	o := &perplexityOptions{ios: ios}
	cmd := &cobra.Command{
		Use:   "perplexity MODEL [FILE]",
		Short: "Measure how well a model predicts a text, or how far a quantization is from its base",
		Long: "Compute the perplexity of MODEL on the text in FILE (or stdin) with llama-perplexity's method:\n" +
			"the tokens are cut into windows of --ctx tokens, each evaluated from an empty cache and scored\n" +
			"on its second half; the result is exp(mean negative log-likelihood) ± its standard error.\n" +
			"The text must give at least two windows. Lower is better; only numbers from the same text,\n" +
			"--ctx and tokenizer compare.\n\n" +
			"--kl-base compares MODEL with a reference on the same tokens, as llama-perplexity --kl-divergence:\n" +
			"mean KL divergence (nats per token) with its median and 99th percentile, how often both models\n" +
			"rank the same token first, and PPL(MODEL)/PPL(base). The reference is a model (run first, on the\n" +
			"same text) or a file that --save-logits wrote, so a large base is evaluated once for all its quants.\n" +
			"Logits files store every token's log-probability in 16 bits, 2 bytes per vocabulary entry per\n" +
			"scored token, in the layout of llama-perplexity's --kl-divergence-base files; with a model as\n" +
			"--kl-base and no --save-logits, a temporary one is written and removed.",
		Example: "  olm perplexity ./model-f16.gguf wiki.test.raw --ctx 512\n" +
			"  olm perplexity ./model-f16.gguf wiki.test.raw --save-logits base.logits\n" +
			"  olm perplexity ./model-q4_k_m.gguf --kl-base base.logits --json",
		Args: argsBetween(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.model = args[0]
			if len(args) == 2 {
				o.file = args[1]
			}
			o.ctxSet = cmd.Flags().Changed("ctx")
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runPerplexity(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.ctx, "ctx", 512, "window size in tokens (llama-perplexity's -c); with a logits file, the file's")
	f.IntVar(&o.batch, "batch", 2048, "tokens evaluated per decode")
	f.IntVarP(&o.threads, "threads", "t", runner.PhysicalCores(), "CPU threads")
	f.IntVar(&o.chunks, "chunks", 0, "score at most this many windows (0: all)")
	f.IntVar(&o.gpuLayers, "gpu-layers", runner.AutoGPULayers, "offload `N` layers to the GPU: -1 as many as fit, 0 none")
	f.BoolVar(&o.jsonOut, "json", false, "print the result as JSON")
	f.StringVar(&o.klBase, "kl-base", "", "compare with this reference: a model, or a file from --save-logits")
	f.StringVar(&o.saveTo, "save-logits", "", "save the reference's log-probabilities to this file (MODEL's, or --kl-base's)")
	return cmd
}

func (o *perplexityOptions) validate() error {
	switch {
	case o.ctx < 4:
		return fmt.Errorf("--ctx %d: a window needs at least 4 tokens", o.ctx)
	case o.batch <= 0:
		return fmt.Errorf("--batch %d: must be positive", o.batch)
	case o.chunks < 0:
		return fmt.Errorf("--chunks %d: must be 0 (all) or more", o.chunks)
	case o.gpuLayers < -1:
		return fmt.Errorf("--gpu-layers %d: must be 0 or more, or -1 for as many as fit", o.gpuLayers)
	}
	return runner.ValidateThreads(o.threads)
}

func runPerplexity(ctx context.Context, o *perplexityOptions) error {
	if err := o.validate(); err != nil {
		return err
	}
	var base *perplexity.LogitsReader
	if o.klBase != "" {
		f, err := os.Open(o.klBase)
		if err == nil {
			if perplexity.IsLogitsFile(f) {
				defer f.Close()
				if _, err := f.Seek(0, io.SeekStart); err != nil {
					return fmt.Errorf("--kl-base %s: %w", o.klBase, err)
				}
				if base, err = newLogitsReader(f); err != nil {
					return fmt.Errorf("--kl-base %s: %w", o.klBase, err)
				}
				if o.saveTo != "" {
					return fmt.Errorf("--save-logits: %s already holds the reference's logits; leave --save-logits out", o.klBase)
				}
				if o.ctxSet && o.ctx != base.Header.NCtx {
					return fmt.Errorf("--ctx %d: %s was scored in windows of %d tokens, and KL compares the same windows; leave --ctx out", o.ctx, o.klBase, base.Header.NCtx)
				}
			} else {
				f.Close()
			}
		}
	}
	var text string
	if base == nil || o.file != "" {
		t, err := o.readText()
		if err != nil {
			return err
		}
		text = t
	}
	if base == nil && o.klBase != "" {
		return o.compareWithModel(ctx, text)
	}
	m, err := o.load(ctx, o.model)
	if err != nil {
		return err
	}
	defer m.Close()
	if base != nil {
		return o.compare(ctx, m, base, text)
	}
	toks, err := m.Tokenize(text, true, false)
	if err != nil {
		return err
	}
	var res perplexity.Result
	err = o.writeLogits(func(w io.Writer) error {
		return o.score(ctx, m, o.ctx, func(ev perplexity.Evaluator, opts perplexity.Options) (err error) {
			res, err = perplexity.Run(ctx, ev, toks, opts, w)
			return err
		})
	})
	if err != nil {
		return err
	}
	return o.print(res, nil)
}

// compareWithModel runs the base model first, keeping its log-probabilities in a file
// (--save-logits, or a temporary one), so only one model is in memory at a time.
func (o *perplexityOptions) compareWithModel(ctx context.Context, text string) error {
	save := o.saveTo
	if save == "" {
		dir, err := os.MkdirTemp("", "olm-base-")
		if err != nil {
			return fmt.Errorf("temporary logits file: %w", err)
		}
		defer os.RemoveAll(dir)
		save = filepath.Join(dir, "base.logits")
		o.saveTo = save
	}
	bm, err := o.load(ctx, o.klBase)
	if err != nil {
		return fmt.Errorf("--kl-base: %w", err)
	}
	toks, err := bm.Tokenize(text, true, false)
	if err == nil {
		err = o.writeLogits(func(w io.Writer) error {
			return o.score(ctx, bm, o.ctx, func(ev perplexity.Evaluator, opts perplexity.Options) error {
				_, err := perplexity.Run(ctx, ev, toks, opts, w)
				return err
			})
		})
	}
	bm.Close()
	if err != nil {
		return fmt.Errorf("--kl-base %s: %w", o.klBase, err)
	}
	f, err := os.Open(save)
	if err != nil {
		return err
	}
	defer f.Close()
	base, err := newLogitsReader(f)
	if err != nil {
		return fmt.Errorf("%s: %w", save, err)
	}
	m, err := o.load(ctx, o.model)
	if err != nil {
		return err
	}
	defer m.Close()
	return o.compare(ctx, m, base, text)
}

// compare scores m against saved logits. Text, when given, must tokenize to the saved
// tokens: a KL over different tokens, or another tokenizer, would mean nothing.
func (o *perplexityOptions) compare(ctx context.Context, m *runner.Model, base *perplexity.LogitsReader, text string) error {
	h := base.Header
	if h.NVocab != m.NVocab() {
		return fmt.Errorf("the reference has a vocabulary of %d tokens and %s one of %d: KL divergence needs the same tokenizer", h.NVocab, o.model, m.NVocab())
	}
	if text != "" {
		toks, err := m.Tokenize(text, true, false)
		if err != nil {
			return err
		}
		if len(toks) < len(h.Tokens) || !slices.Equal(toks[:len(h.Tokens)], h.Tokens) {
			return fmt.Errorf("the text does not tokenize to the tokens the reference was scored on; leave FILE out to use the reference's own tokens")
		}
	}
	var res perplexity.KLResult
	err := o.score(ctx, m, h.NCtx, func(ev perplexity.Evaluator, opts perplexity.Options) (err error) {
		res, err = perplexity.Compare(ctx, ev, base, opts)
		return err
	})
	if err != nil {
		return err
	}
	return o.print(res.Result, &res)
}

// score makes a context with windows of n tokens and runs f with progress on a terminal.
func (o *perplexityOptions) score(ctx context.Context, m *runner.Model, n int, f func(perplexity.Evaluator, perplexity.Options) error) (err error) {
	if train := m.TrainCtx(); train > 0 && n > train {
		// As llama-perplexity warns: past its trained context a model's predictions fall
		// apart, and the number measures that, not the model. Said once there is a number.
		defer func() {
			if err == nil {
				fmt.Fprintf(o.ios.Err, "olm: warning: windows of %d tokens are longer than the %d %s was trained on; its perplexity past that means little (use --ctx %d or less)\n",
					n, train, filepath.Base(m.Path()), train)
			}
		}()
	}
	lctx, err := m.NewContext(runner.ContextOptions{Ctx: n, Batch: o.batch, Threads: o.threads})
	if err != nil {
		return err
	}
	defer lctx.Close()
	bos := int32(-1)
	if m.AddsBOS() {
		bos = m.BOS()
	}
	opts := perplexity.Options{Ctx: n, Chunks: o.chunks, NVocab: m.NVocab(), BOS: bos}
	if o.ios.ErrTTY {
		opts.Progress = func(done, total int, ppl float64) {
			fmt.Fprintf(o.ios.Err, "\r\033[Kwindow %d/%d: perplexity %.4f", done, total, ppl)
		}
		defer fmt.Fprint(o.ios.Err, "\r\033[K")
	}
	return f(lctx, opts)
}

func (o *perplexityOptions) load(ctx context.Context, name string) (*runner.Model, error) {
	rm, err := resolveModel(ctx, o.ios, name)
	if err != nil {
		return nil, err
	}
	return runner.LoadModel(ctx, rm.Path, runner.ModelOptions{GPULayers: o.gpuLayers, FitContext: o.ctx})
}

// writeLogits runs f with the --save-logits file open (nil writer without one), writing
// it atomically so a failed or interrupted run leaves no half file.
func (o *perplexityOptions) writeLogits(f func(io.Writer) error) error {
	if o.saveTo == "" {
		return f(nil)
	}
	if err := checkLogitsTarget(o.saveTo); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(o.saveTo), filepath.Base(o.saveTo)+".*.tmp")
	if err != nil {
		return fmt.Errorf("--save-logits: %w", err)
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriterSize(tmp, 1<<20)
	if err := f(w); err != nil {
		tmp.Close()
		return err
	}
	if err := errors.Join(w.Flush(), tmp.Chmod(0o644), tmp.Close()); err != nil {
		return fmt.Errorf("--save-logits %s: %w", o.saveTo, err)
	}
	if err := os.Rename(tmp.Name(), o.saveTo); err != nil {
		return fmt.Errorf("--save-logits: %w", err)
	}
	return nil
}

// checkLogitsTarget refuses to replace a file that is not a logits file: a slip of the
// keyboard (--save-logits model.gguf) must not cost a model.
func checkLogitsTarget(path string) error {
	if dir := filepath.Dir(path); dir != "" {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return fmt.Errorf("--save-logits %s: the folder %s does not exist; create it or give another path", path, dir)
		}
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("--save-logits %s: %w", path, err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return fmt.Errorf("--save-logits %s is a directory: give a file name, e.g. %s", path, filepath.Join(path, "base.logits"))
	}
	if !perplexity.IsLogitsFile(f) {
		return fmt.Errorf("--save-logits %s exists and is not a logits file; olm replaces only logits files: give another name", path)
	}
	return nil
}

func (o *perplexityOptions) readText() (string, error) {
	var b []byte
	var err error
	switch {
	case o.file != "" && o.file != "-":
		b, err = os.ReadFile(o.file)
		if err != nil {
			return "", fmt.Errorf("read text: %w", err)
		}
	case o.ios.InTTY:
		return "", errors.New("no text: give a FILE or pipe the text on stdin")
	default:
		if b, err = io.ReadAll(o.ios.In); err != nil {
			return "", fmt.Errorf("read text from stdin: %w", err)
		}
	}
	if len(b) == 0 {
		return "", errors.New("empty text: give a FILE with text to score")
	}
	return string(b), nil
}

func (o *perplexityOptions) print(r perplexity.Result, kl *perplexity.KLResult) error {
	w := o.ios.Out
	if o.jsonOut {
		e := json.NewEncoder(w)
		if kl != nil {
			return e.Encode(kl)
		}
		return e.Encode(r)
	}
	fmt.Fprintf(w, "perplexity: %.4f ± %.4f (%d tokens scored in %d windows of %d)\n", r.PPL, r.PPLStderr, r.NTokens, r.NChunks, r.NCtx)
	if kl != nil {
		fmt.Fprintf(w, "base perplexity: %.4f ± %.4f; ratio %.4f ± %.4f\n", kl.PPLBase, kl.PPLBaseStderr, kl.PPLRatio, kl.PPLRatioStderr)
		fmt.Fprintf(w, "KL divergence: mean %.6f ± %.6f, median %.6f, 99%% %.6f, max %.6f\n", kl.KLMean, kl.KLStderr, kl.KLMedian, kl.KLP99, kl.KLMax)
		fmt.Fprintf(w, "top-1 agreement: %.2f%% ± %.2f%%\n", 100*kl.Top1, 100*kl.Top1Stderr)
	}
	return nil
}

// newLogitsReader reads a logits file's header, checked against the file's length.
func newLogitsReader(f *os.File) (*perplexity.LogitsReader, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return perplexity.NewLogitsReader(f, st.Size())
}
