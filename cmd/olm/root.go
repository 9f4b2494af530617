package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"

	"github.com/olm-dev/olm/runner"
)

// globalOptions are the flags every command shares.
type globalOptions struct {
	verbose bool
}

func newRootCmd(ios *ioStreams) *cobra.Command {
	g := &globalOptions{}
	root := &cobra.Command{
		Use:   "olm",
		Short: "Run open language models locally",
		Long: "olm downloads GGUF builds of open LLMs from Hugging Face and runs them on this machine\n" +
			"through llama.cpp: chat in the terminal, raw completion, and honest benchmarks.",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRun: func(cmd *cobra.Command, _ []string) {
			runner.SetLogger(newLogger(ios.Err, g.verbose))
		},
	}
	root.SetIn(ios.In)
	root.SetOut(ios.Out)
	root.SetErr(ios.Err)
	// --version is ours rather than cobra's so that it runs after --verbose takes effect:
	// listing GPUs loads the GPU backends, whose log --verbose shows.
	showVersion := root.Flags().BoolP("version", "v", false, "show olm's version, llama.cpp's commit, CPU features and GPUs")
	root.RunE = func(cmd *cobra.Command, args []string) error {
		if *showVersion {
			fmt.Fprintln(ios.Out, versionString())
			return nil
		}
		return cmd.Help()
	}
	root.PersistentFlags().BoolVar(&g.verbose, "verbose", false, "show llama.cpp's log and timings on stderr")
	// Grouped as gh groups its help: what users run first, then model management.
	root.AddGroup(&cobra.Group{ID: "run", Title: "Run models:"}, &cobra.Group{ID: "manage", Title: "Manage models:"})
	for _, c := range []*cobra.Command{newChatCmd(ios, g, nil), newRunCmd(ios, g, nil), newBenchCmd(ios, nil),
		newServeCmd(ios, g, nil), newPerplexityCmd(ios, nil), newTokenizeCmd(ios, nil)} {
		c.GroupID = "run"
		root.AddCommand(c)
	}
	for _, c := range []*cobra.Command{newPullCmd(ios, nil), newListCmd(ios, nil), newShowCmd(ios, nil), newCatalogCmd(ios, nil),
		newImportCmd(ios, nil), newRmCmd(ios, nil), newLoginCmd(ios, nil), newQuantizeCmd(ios, nil)} {
		c.GroupID = "manage"
		root.AddCommand(c)
	}
	return root
}

// newLogger is silent unless --verbose: llama.cpp's load log is noise for most runs.
func newLogger(w io.Writer, verbose bool) *slog.Logger {
	if !verbose {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func versionString() string {
	gpu := "none: " + runner.NoGPUReason()
	if gs := runner.GPUs(); len(gs) > 0 {
		var d []string
		for _, g := range gs {
			d = append(d, g.String())
		}
		gpu = strings.Join(d, ", ")
	}
	return fmt.Sprintf("olm %s\nllama.cpp %s (from github.com/ollama/ollama %s)\nCPU features: %s\nGPU: %s\nbuild flags: %s",
		runner.Version, runner.LlamaCommit, runner.OllamaVersion(), strings.Join(runner.CPUFeatures(), " "), gpu, runner.BuildFlags)
}
