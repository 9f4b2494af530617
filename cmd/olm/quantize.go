package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/olm-dev/olm/download"
	"github.com/olm-dev/olm/runner"
)

type quantizeOptions struct {
	ios             *ioStreams
	in, out, typ    string
	threads         int
	allowRequantize bool
	force           bool
	listTypes       bool
}

func newQuantizeCmd(ios *ioStreams, runF func(context.Context, *quantizeOptions) error) *cobra.Command {
	o := &quantizeOptions{ios: ios}
	cmd := &cobra.Command{
		Use:   "quantize IN OUT TYPE",
		Short: "Write a quantized copy of a GGUF model, as llama-quantize does",
		Long: "Quantize the model IN (a path or any model name olm run takes) to TYPE and write it to OUT, with\n" +
			"llama.cpp's own quantizer: Q8_0, Q6_K, Q5_K_M, Q4_K_M, Q4_0 and the rest llama-quantize accepts\n" +
			"(--list-types). Start from the F16 or F32 model: quantizing an already quantized one loses more.\n\n" +
			"Tensors whose rows do not split into a k-quant's 256-value blocks get another type, as llama.cpp\n" +
			"decides (olm says how many); the legacy types (Q4_0, Q8_0, ...) have no such fallback, and a model\n" +
			"with such a tensor cannot be quantized to them. See how much quality a type costs with\n" +
			"`olm perplexity OUT TEXT --kl-base IN`.",
		Example: "  olm quantize ./model-f16.gguf ./model-q4_k_m.gguf Q4_K_M\n" +
			"  olm quantize ./model-f16.gguf ./model-q8_0.gguf q8_0 --threads 4\n" +
			"  olm quantize --list-types",
		Args: func(cmd *cobra.Command, args []string) error {
			if o.listTypes {
				return argsBetween(0, 0)(cmd, args)
			}
			return argsBetween(3, 3)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 3 {
				o.in, o.out, o.typ = args[0], args[1], args[2]
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runQuantize(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.IntVarP(&o.threads, "threads", "t", runner.PhysicalCores(), "CPU threads")
	f.BoolVar(&o.allowRequantize, "allow-requantize", false, "quantize a model that is already quantized (to fewer bits only)")
	f.BoolVarP(&o.force, "force", "f", false, "overwrite OUT if it exists")
	f.BoolVar(&o.listTypes, "list-types", false, "list the types TYPE can be")
	return cmd
}

func runQuantize(ctx context.Context, o *quantizeOptions) error {
	if o.listTypes {
		tw := tabwriter.NewWriter(o.ios.Out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "TYPE\tBITS/WEIGHT\t")
		for _, q := range runner.QuantTypes {
			note := q.Desc
			if q.NeedsImatrix {
				note += " (needs an importance matrix: not yet)"
			}
			fmt.Fprintf(tw, "%s\t%.2f\t%s\n", q.Name, q.BPW, note)
		}
		return tw.Flush()
	}
	q, err := runner.ParseQuantType(o.typ)
	if err != nil {
		return err
	}
	if err := runner.ValidateThreads(o.threads); err != nil {
		return err
	}
	rm, err := resolveModel(ctx, o.ios, o.in)
	if err != nil {
		return err
	}
	if err := checkOutput(rm.Path, o.out, o.force); err != nil {
		return err
	}
	opts := runner.QuantizeOptions{Type: q, Threads: o.threads, AllowRequantize: o.allowRequantize}
	if o.ios.ErrTTY {
		opts.Progress = func(done, total int, tensor string) {
			fmt.Fprintf(o.ios.Err, "\r\033[Kquantizing to %s: tensor %d/%d %s", q.Name, done, total, tensor)
		}
	}
	res, err := runner.Quantize(ctx, rm.Path, o.out, opts)
	if o.ios.ErrTTY {
		fmt.Fprint(o.ios.Err, "\r\033[K")
	}
	if err != nil {
		return err
	}
	in, _ := os.Stat(rm.Path)
	out, err := os.Stat(o.out)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.ios.Err, "wrote %s: %s, %d tensors, %s (%.1f%% of %s)\n", o.out, q.Name, res.Tensors,
		download.HumanBytes(out.Size()), 100*float64(out.Size())/float64(in.Size()), download.HumanBytes(in.Size()))
	var conv []string
	for _, t := range slices.Sorted(maps.Keys(res.Converted)) {
		conv = append(conv, fmt.Sprintf("%d %s", res.Converted[t], t))
	}
	if len(conv) > 0 {
		fmt.Fprintf(o.ios.Err, "converted: %s; the other tensors (norms) are kept as they were\n", strings.Join(conv, ", "))
	}
	if res.Fallbacks > 0 {
		fmt.Fprintf(o.ios.Err, "note: %d tensors have rows that do not split into %s's blocks and got another type (llama.cpp's fallback)\n", res.Fallbacks, q.Name)
	}
	return nil
}

// checkOutput refuses to overwrite the input, a directory, or (without --force) any file.
func checkOutput(in, out string, force bool) error {
	if strings.TrimSpace(out) == "" {
		return errors.New("OUT is empty: give the path of the file to write")
	}
	if ai, err := filepath.Abs(in); err == nil {
		if ao, err := filepath.Abs(out); err == nil && ai == ao {
			return fmt.Errorf("OUT is the input %s: write the quantized model to another file", in)
		}
	}
	st, err := os.Stat(out)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("OUT %s: %w", out, err)
	case st.IsDir():
		return fmt.Errorf("OUT %s is a directory: give a file name, e.g. %s", out, filepath.Join(out, "model-q4_k_m.gguf"))
	case !force:
		return fmt.Errorf("OUT %s exists: pass --force to overwrite it", out)
	}
	if d := filepath.Dir(out); d != "" {
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			return fmt.Errorf("OUT %s: the folder %s does not exist", out, d)
		}
	}
	return nil
}
