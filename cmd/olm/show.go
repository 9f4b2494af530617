package main

import (
	"context"
	"fmt"
	"github.com/olm-dev/olm/engine"
	"io"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/olm-dev/olm/chat/template"
	"github.com/olm-dev/olm/chat/tools"
	"github.com/olm-dev/olm/download"
	"github.com/olm-dev/olm/models"
	"github.com/olm-dev/olm/runner"
)

type showOptions struct {
	ios    *ioStreams
	deps   func() (*modelDeps, error)
	name   string
	remote bool
	ctx    int

	template bool   // the template doctor instead of the metadata
	as       string // preview this template (built-in name or Jinja file) instead
	messages string // a JSON conversation to render; prints only the prompt
}

func newShowCmd(ios *ioStreams, runF func(context.Context, *showOptions) error) *cobra.Command {
	o := &showOptions{ios: ios, deps: loadModelDeps}
	cmd := &cobra.Command{
		Use:   "show MODEL",
		Short: "Show a model's metadata and whether it fits in this machine's RAM",
		Long: "Read a model's GGUF header: architecture, parameters, quantization, trained context length,\n" +
			"whether a chat template is embedded, file size, and a memory estimate (weights + f16 KV cache)\n" +
			"for --ctx tokens, compared with this machine's RAM.\n\n" +
			"--remote reads only the header of a model that is not downloaded yet, through HTTP Range\n" +
			"requests (typically a few MB), to answer \"will it fit?\" before the download.",
		Example: "  olm show mistral\n  olm show --remote mixtral --ctx 8192\n" +
			"  olm show qwen --template\n  olm show qwen --template --messages chat.json > prompt.txt",
		Args: argsBetween(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.name = args[0]
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runShow(cmd.Context(), o)
		},
	}
	cmd.Flags().BoolVar(&o.remote, "remote", false, "read the header from Hugging Face when the model is not downloaded")
	cmd.Flags().BoolVar(&o.template, "template", false, "show which chat template is used and why, its stop strings and a rendered sample")
	cmd.Flags().StringVar(&o.as, "as", "", "with --template: preview this template (built-in name or Jinja file) instead")
	cmd.Flags().StringVar(&o.messages, "messages", "", "with --template: print only the exact prompt for this JSON conversation ([{role, content}...])")
	cmd.Flags().IntVar(&o.ctx, "ctx", 0, "context size for the memory estimate (default: as olm run, the trained context up to 4096)")
	return cmd
}

func runShow(ctx context.Context, o *showOptions) error {
	if !o.template && (o.as != "" || o.messages != "") {
		return fmt.Errorf("--as and --messages go with --template")
	}
	if o.ctx < 0 {
		return fmt.Errorf("--ctx %d: must be positive (leave it out for the model's default)", o.ctx)
	}
	d, err := o.deps()
	if err != nil {
		return err
	}
	// A hf.co name without a file is listed: a Retry-After wait is said on stderr.
	d = d.announcingWaits(newPullProgress(o.ios.Err, progressMode(o.ios, false, false)).Event)
	ref, err := d.resolver().Resolve(ctx, o.name)
	if err != nil {
		return d.explainHubError(o.name, err)
	}
	var info models.Info
	paths, local := models.LocalFiles(d.Env.Store(), ref)
	switch {
	case local:
		// What run would refuse, show refuses too: the GGUF check, then llama.cpp itself on
		// the metadata and tensor layout (no weights read), as import does.
		if err := runner.ProbeModel(ctx, paths[0]); err != nil {
			return err
		}
		if info, err = models.Inspect(paths[0]); err != nil {
			return err
		}
	case !o.remote:
		return fmt.Errorf("%s is not downloaded: `olm pull %s` fetches it, or `olm show --remote %s` reads its header without downloading",
			ref.Name, o.name, o.name)
	case d.Client.Offline:
		return d.explainHubError(ref.Name, download.ErrOffline)
	default:
		u := d.resolveURL(ref.Repo, ref.Revision, ref.Files[0])
		info, err = models.InspectRemote(ctx, u, models.RemoteOptions{Client: d.Client.HTTP, Token: d.Client.Token})
		if err != nil {
			return d.explainHubError(ref.Name, err)
		}
	}
	if o.template {
		return showTemplate(o, info, ref)
	}
	n := o.ctx
	if n == 0 {
		n = engine.DefaultContext(info.ContextLength)
	}
	fit, fitErr := models.CheckFit(info, n, d.Env.MemInfo)

	tw := tabwriter.NewWriter(o.ios.Out, 0, 4, 2, ' ', 0)
	row := func(k, format string, args ...any) { fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{k}, args...)...) }
	row("model", "%s", ref.Name)
	if info.Name != "" {
		row("name", "%s", info.Name)
	}
	row("architecture", "%s", info.Arch)
	row("parameters", "%s", formatParams(info.Params))
	row("quantization", "%s (%.2f bits per weight)", dash(info.FileType), info.BitsPerWeight)
	row("context length", "%d tokens (trained)", info.ContextLength)
	row("chat template", "%s", templateLine(info, ref))
	row("tools", "%s", toolsLine(info))
	if local {
		row("file", "%s (%s)", paths[0], download.HumanBytes(info.FileSize))
	} else {
		row("file", "%s (%s; read %s of it, the header only)", ref.Files[0], download.HumanBytes(info.FileSize), download.HumanBytes(info.Fetched))
	}
	mem := info.Memory(n)
	row("memory", "about %s at %d tokens: weights %s + KV cache %s (f16) + compute %s",
		download.HumanBytes(mem.Total), n, download.HumanBytes(mem.Weights), download.HumanBytes(mem.KVCache), download.HumanBytes(mem.Compute))
	switch {
	case fitErr != nil:
		row("fits in RAM", "unknown (%v)", fitErr)
	case fit.Fits:
		row("fits in RAM", "yes (%s of RAM)", download.HumanBytes(fit.RAM))
	default:
		row("fits in RAM", "no: %s", fit.Reason)
	}
	if gpus := runner.GPUs(); len(gpus) > 0 {
		row("fits on GPU", "%s", gpuFitLine(info, mem, gpus))
	}
	return tw.Flush()
}

// gpuFitLine says how much of the model the default --gpu-layers would put on the GPUs.
func gpuFitLine(info models.Info, mem models.Memory, gpus []runner.GPU) string {
	var free uint64
	for _, g := range gpus {
		free += g.FreeBytes
	}
	where := gpus[0].Description
	if len(gpus) > 1 {
		where = fmt.Sprintf("%d GPUs", len(gpus))
	}
	all := info.NLayer + 1
	hb := func(n uint64) string { return download.HumanBytes(int64(n)) }
	switch n := models.GPULayersThatFit(info, mem, int64(free)); {
	case n >= all:
		return fmt.Sprintf("yes: all %d layers on %s (%s free)", all, where, hb(free))
	case n > 0:
		return fmt.Sprintf("partly: about %d of %d layers on %s (%s free); the rest runs on the CPU", n, all, where, hb(free))
	default:
		return fmt.Sprintf("no: %s has %s free; the model runs on the CPU", where, hb(free))
	}
}

func templateLine(info models.Info, ref models.Ref) string {
	switch {
	case info.HasChatTemplate():
		return fmt.Sprintf("embedded (%d bytes of Jinja)", len(info.ChatTemplate))
	case ref.Model != nil && ref.Model.Template != "" && ref.Model.Template != "none":
		return fmt.Sprintf("none embedded; olm uses the catalog's %q", ref.Model.Template)
	default:
		return "none embedded"
	}
}

// toolsLine says whether the model can be given tools: its embedded template must render
// them, and olm must know the format its model writes calls in.
func toolsLine(info models.Info) string {
	if !info.HasChatTemplate() {
		return "no (no chat template embedded)"
	}
	j, err := template.NewJinja("gguf", info.ChatTemplate, template.Tokens{BOS: info.BOS.Text, EOS: info.EOS.Text})
	if err != nil || !j.TakesTools() {
		return "no (its chat template does not render tools)"
	}
	switch f := tools.Detect(info.ChatTemplate); f {
	case tools.Hermes:
		return "yes (calls as <tool_call> blocks, Hermes/Qwen style)"
	case tools.Mistral:
		return "yes (calls as a [TOOL_CALLS] list, Mistral style)"
	case tools.Llama3:
		return "yes (calls as JSON objects, Llama 3.1 style)"
	default:
		return "no (its template renders tools, in a call format olm does not read)"
	}
}

func formatParams(n uint64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2f B", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1f M", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1f K", float64(n)/1e3)
	}
	return fmt.Sprintf("%d", n)
}

// showTemplate is the template doctor: which template olm uses for the model and why, and
// the exact prompt it renders, for a sample conversation or the user's own (--messages).
func showTemplate(o *showOptions, info models.Info, ref models.Ref) error {
	catalog := ""
	if ref.Model != nil {
		catalog = ref.Model.Template
	}
	t, why, err := template.Select(template.Options{
		Override: o.as, GGUFTemplate: info.ChatTemplate, CatalogTemplate: catalog,
		Architecture: info.Arch, Tokens: template.Tokens{BOS: info.BOS.Text, EOS: info.EOS.Text},
	})
	if err != nil {
		return err
	}
	if o.messages != "" {
		data, err := os.ReadFile(o.messages)
		if err != nil {
			return fmt.Errorf("--messages: %w", err)
		}
		msgs, err := template.ParseMessages(data)
		if err != nil {
			return fmt.Errorf("--messages %s: %w", o.messages, err)
		}
		p, err := t.Render(msgs, true)
		if err != nil {
			return fmt.Errorf("render %s with %s: %w", o.messages, t.Name(), err)
		}
		_, err = io.WriteString(o.ios.Out, p.String())
		return err
	}
	sample, err := template.Preview(t)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.ios.Out, "model: %s\nwhy: %s\n%s", ref.Name, why, sample)
	return nil
}
