package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/olm-dev/olm/download"
	"github.com/olm-dev/olm/models"
)

type pullOptions struct {
	ios         *ioStreams
	deps        func() (*modelDeps, error)
	name        string
	quiet       bool
	json        bool
	connections int
	offline     bool
	verify      bool
}

func newPullCmd(ios *ioStreams, runF func(context.Context, *pullOptions) error) *cobra.Command {
	o := &pullOptions{ios: ios, deps: loadModelDeps}
	cmd := &cobra.Command{
		Use:   "pull MODEL",
		Short: "Download a model from Hugging Face, verified, into the shared hub cache",
		Long: "Download a model's GGUF file(s) into the Hugging Face hub cache (HF_HUB_CACHE), where\n" +
			"huggingface_hub and llama.cpp -hf find them too. Every file is checked against Hugging Face's\n" +
			"sha256 before it is reported as pulled. Ctrl-C keeps the partial download: run the same command\n" +
			"again to resume. The path of the verified file is printed on stdout.\n\n" +
			"MODEL is a catalog name (olm catalog), NAME:QUANT, or hf.co/OWNER/REPO[:QUANT|:FILE.gguf].\n" +
			"HF_TOKEN, or the token stored by `olm login`, opens gated repos.",
		Example: "  olm pull mistral\n  olm pull mistral-7b-instruct-v0.2:q5_k_m\n" +
			"  olm pull hf.co/Qwen/Qwen2.5-0.5B-Instruct-GGUF:Q8_0 --json | jq -c .",
		Args: argsBetween(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.name = args[0]
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runPull(cmd.Context(), o)
		},
	}
	cmd.Flags().BoolVarP(&o.quiet, "quiet", "q", false, "print only the path, no progress")
	cmd.Flags().BoolVar(&o.json, "json", false, "print progress events and the result as JSON lines on stdout")
	cmd.Flags().IntVar(&o.connections, "connections", 0, "parallel ranged requests, shared by the files of the pull (default 8)")
	cmd.Flags().BoolVar(&o.offline, "offline", false, "no network: only check what is already downloaded (as HF_HUB_OFFLINE=1)")
	cmd.Flags().BoolVar(&o.verify, "verify", false, "hash files already downloaded again, even those olm verified before")
	return cmd
}

func runPull(ctx context.Context, o *pullOptions) error {
	if o.connections < 0 || o.connections > 64 {
		return fmt.Errorf("--connections %d: must be between 1 and 64 (0: automatic)", o.connections)
	}
	d, err := o.deps()
	if err != nil {
		return err
	}
	d.Client.Connections = o.connections
	if o.offline {
		d.Client.Offline = true
	}
	// With --json every line on stdout is an event, so scripts read one stream.
	progW := o.ios.Err
	if o.json {
		progW = o.ios.Out
	}
	prog := newPullProgress(progW, progressMode(o.ios, o.json, o.quiet))
	d = d.announcingWaits(prog.Event)
	fail := func(err error) error {
		if o.json {
			prog.emitJSON(jsonEvent{Phase: "error", Name: o.name, Error: oneLine(err.Error())})
		}
		return err
	}

	ref, err := d.resolver().Resolve(ctx, o.name)
	if err != nil {
		return fail(d.explainHubError(o.name, err))
	}
	if !ref.Remote() {
		// A path, an import or an ollama model: already here, nothing to fetch.
		return o.done(prog, ref, models.Pulled{Ref: ref, Paths: []string{ref.Path}}, "is a local file: nothing to pull")
	}
	store := d.Env.Store()
	store.Reverify = o.verify
	pulled, err := models.Pull(ctx, store, ref, d.hub(), prog.Event)
	if err != nil {
		return fail(pullFailed(o.ios, d, ref.Name, "`olm pull "+o.name+"`", prog, err))
	}
	msg := fmt.Sprintf("pulled: %s downloaded, sha256 verified", download.HumanBytes(pulled.Downloaded))
	if pulled.Downloaded == 0 {
		msg = "already downloaded, sha256 verified"
	}
	if pulled.Commit == "" {
		// Pull fell back to the cache without asking Hugging Face (offline or unreachable).
		msg = "using the copy in the cache, not checked against Hugging Face"
	}
	return o.done(prog, ref, pulled, msg)
}

// done reports the result: the path(s) on stdout for scripts, a summary on stderr.
func (o *pullOptions) done(prog *pullProgress, ref models.Ref, p models.Pulled, msg string) error {
	if o.json {
		n := p.Downloaded
		prog.emitJSON(jsonEvent{Phase: "pulled", Name: ref.Name, Paths: p.Paths, Commit: p.Commit, Downloaded: &n, Message: msg})
		return nil
	}
	if !o.quiet {
		fmt.Fprintf(o.ios.Err, "%s: %s\n", ref.Name, msg)
	}
	for _, path := range p.Paths {
		fmt.Fprintln(o.ios.Out, path)
	}
	return nil
}
