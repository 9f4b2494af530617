package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/olm-dev/olm/chat/repl"
	"github.com/olm-dev/olm/engine"
	"github.com/olm-dev/olm/runner"
)

type chatOptions struct {
	ios      *ioStreams
	global   *globalOptions
	model    string
	system   string
	template string
	prompt   string
	json     bool
	gen      genFlags
}

func newChatCmd(ios *ioStreams, g *globalOptions, runF func(context.Context, *chatOptions) error) *cobra.Command {
	o := &chatOptions{ios: ios, global: g}
	cmd := &cobra.Command{
		Use:   "chat MODEL",
		Short: "Chat with a model in the terminal, using its chat template",
		Long: "Chat with a model: answers stream as they are generated, the conversation is rendered with\n" +
			"the model's chat template, and each turn evaluates only what is new since the last one.\n" +
			"Type /help in the chat for its commands. With stdin not a terminal, lines (slash commands\n" +
			"included) are read from it until /exit or end of input. -p answers one message and exits.",
		Example: "  olm chat ./qwen2.5-0.5b-instruct-q4_k_m.gguf\n" +
			"  olm chat ./model.gguf -p \"Why is the sky blue?\" --json\n" +
			"  printf 'Hello\\n/stats\\n/exit\\n' | olm chat ./model.gguf",
		Args: argsBetween(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.model = args[0]
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runChat(cmd.Context(), o)
		},
	}
	o.gen.register(cmd.Flags())
	cmd.Flags().StringVar(&o.system, "system", "", "system prompt")
	cmd.Flags().StringVar(&o.template, "template", "", "chat template: a built-in name or a Jinja file (default: the model's own)")
	cmd.Flags().StringVarP(&o.prompt, "prompt", "p", "", "answer this one message, print the answer and exit")
	cmd.Flags().BoolVar(&o.json, "json", false, "with -p: print the answer and its timings as JSON")
	return cmd
}

func runChat(ctx context.Context, o *chatOptions) error {
	if err := o.gen.validate(); err != nil {
		return err
	}
	oneShot := o.gen.fs.Changed("prompt")
	if o.json && !oneShot {
		return errors.New("--json needs -p: it describes one answer")
	}
	if oneShot && strings.TrimSpace(o.prompt) == "" {
		return errors.New("empty prompt: give -p some text")
	}
	o.gen.warnNoGPU(o.ios.Err)
	m, err := o.loader(o.template)(ctx, o.model, nil)
	if err != nil {
		return err
	}
	sess, err := engine.NewSession(m, engine.Settings{
		System: o.system,
		Params: engine.Params{Sampling: o.gen.sampling, MaxTokens: o.gen.maxTokens, Format: o.gen.formatName()},
		Stops:  o.gen.stop,
		Notice: o.ios.Err,
	})
	if err != nil {
		m.Close()
		return err
	}
	defer sess.Close()
	if oneShot {
		return chatOnce(ctx, o, sess)
	}
	in, err := o.lineReader()
	if err != nil {
		return err
	}
	defer in.Close()
	cfg := repl.Config{Session: sess, Load: o.loader(""), In: in, Out: o.ios.Out, Err: o.ios.Err,
		Color: o.ios.OutTTY && o.ios.ErrTTY, Explain: chatHint}
	if o.ios.Interrupts != nil {
		cfg.Interrupt = o.ios.Interrupts.Push
	}
	return repl.Run(ctx, cfg)
}

// loader loads models by name; --template applies to the model named on the command line
// only, not to models switched to with /model.
func (o *chatOptions) loader(override string) engine.Loader {
	return func(ctx context.Context, name string, release func()) (*engine.Model, error) {
		rm, err := resolveModel(ctx, o.ios, name)
		if err != nil {
			return nil, err
		}
		if release != nil {
			release()
		}
		return engine.Open(ctx, engine.OpenOptions{Name: rm.Name, Path: rm.Path, CatalogTemplate: rm.Template,
			Override: override, Model: o.gen.modelOptions(o.ios), Context: o.gen.contextOptions})
	}
}

// lineReader edits lines on a terminal, with history; anything else is read plainly.
func (o *chatOptions) lineReader() (repl.LineReader, error) {
	if !o.ios.InTTY || !o.ios.OutTTY {
		return repl.NewPlainReader(o.ios.In), nil
	}
	hist, err := repl.HistoryFile(os.Getenv)
	if err != nil {
		fmt.Fprintf(o.ios.Err, "olm: %v; history is not kept\n", err)
	}
	return repl.NewTerminalReader(hist)
}

// chatAnswer is what --json prints.
type chatAnswer struct {
	Model           string  `json:"model"`
	Answer          string  `json:"answer"`
	PromptTokens    int     `json:"prompt_tokens"`
	GeneratedTokens int     `json:"generated_tokens"`
	PromptTPS       float64 `json:"prompt_tps"`
	GenTPS          float64 `json:"gen_tps"`
	TTFTMs          float64 `json:"ttft_ms"`
	Stop            string  `json:"stop"`
}

// chatOnce answers -p: streamed to stdout, or as one JSON object with --json.
func chatOnce(ctx context.Context, o *chatOptions, sess *engine.Session) error {
	emit := func(b []byte) error { _, err := o.ios.Out.Write(b); return err }
	if o.json {
		emit = func([]byte) error { return nil }
	}
	a, err := sess.Ask(ctx, o.prompt, emit)
	if err != nil {
		return err
	}
	if a.Stats.Stop == runner.StopCancelled {
		return errInterrupted
	}
	for _, n := range a.Notices {
		fmt.Fprintln(o.ios.Err, "olm: "+n)
	}
	if !o.json {
		if !strings.HasSuffix(a.Text, "\n") {
			fmt.Fprintln(o.ios.Out)
		}
		return nil
	}
	enc := json.NewEncoder(o.ios.Out)
	enc.SetEscapeHTML(false)
	return enc.Encode(chatAnswer{
		Model: sess.Model().Name, Answer: a.Text,
		PromptTokens: a.Stats.PromptTokens, GeneratedTokens: a.Stats.GenTokens,
		PromptTPS: a.Stats.PromptTPS, GenTPS: a.Stats.GenTPS,
		TTFTMs: float64(a.Stats.TTFT.Microseconds()) / 1000, Stop: string(a.Stats.Stop),
	})
}
