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
		Version:       versionString(),
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRun: func(cmd *cobra.Command, _ []string) {
			runner.SetLogger(newLogger(ios.Err, g.verbose))
		},
	}
	root.SetIn(ios.In)
	root.SetOut(ios.Out)
	root.SetErr(ios.Err)
	root.SetVersionTemplate("{{.Version}}\n")
	root.PersistentFlags().BoolVar(&g.verbose, "verbose", false, "show llama.cpp's log and timings on stderr")
	root.AddCommand(newRunCmd(ios, g, nil))
	root.AddCommand(newBenchCmd(ios, nil))
	root.AddCommand(newChatCmd(ios, g, nil))
	root.AddCommand(newPullCmd(ios, nil), newListCmd(ios, nil), newCatalogCmd(ios, nil), newRmCmd(ios, nil),
		newImportCmd(ios, nil), newShowCmd(ios, nil), newLoginCmd(ios, nil))
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
	return fmt.Sprintf("olm %s\nllama.cpp %s (from github.com/ollama/ollama %s)\nCPU features: %s\nbuild flags: %s",
		runner.Version, runner.LlamaCommit, runner.OllamaVersion(), strings.Join(runner.CPUFeatures(), " "), runner.BuildFlags)
}
