package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/olm-dev/olm/models"
	"github.com/olm-dev/olm/runner"
	"github.com/olm-dev/olm/server"
)

type serveOptions struct {
	ios       *ioStreams
	global    *globalOptions
	preload   []string
	host      string
	port      int
	parallel  int
	ctx       int
	batch     int
	threads   int
	gpuLayers int
	maxQueue  int
	keepAlive time.Duration
	apiKey    string
	noAuth    bool
	origins   []string
	pull      bool
	drain     time.Duration
	// headerTimeout bounds how long a client may take to send its headers (default 10 s):
	// a client that trickles them cannot hold a connection forever.
	headerTimeout time.Duration
	memory        int64 // bytes models may take together (0: the machine's RAM); tests set it
	deps          func() (*modelDeps, error)
	// ready, when set, receives the address the server listens on (tests).
	ready func(addr string)
}

func newServeCmd(ios *ioStreams, g *globalOptions, runF func(context.Context, *serveOptions) error) *cobra.Command {
	o := &serveOptions{ios: ios, global: g, deps: loadModelDeps}
	cmd := &cobra.Command{
		Use:   "serve [MODEL...]",
		Short: "Serve models over the OpenAI and ollama HTTP APIs",
		Long: "Serve olm's models to the apps you already use: OpenAI's API under /v1 and ollama's under /api.\n" +
			"A model is loaded on its first request (MODELs named here are loaded at start) and unloaded after\n" +
			"keep_alive without requests; requests to one model share it, decoded together in --parallel slots.\n\n" +
			fmt.Sprintf("It listens on 127.0.0.1:%d (ollama's port plus one, so both can run), or OLM_HOST=HOST:PORT.\n", server.DefaultPort) +
			"Listening beyond loopback needs --api-key (or OLM_API_KEY), or --no-auth said explicitly.\n" +
			"SIGTERM or Ctrl-C stops accepting, lets running requests finish for --drain, then exits.",
		Example: "  olm serve\n  olm serve qwen --parallel 8 --ctx 8192\n" +
			"  OLM_API_KEY=secret olm serve --host 0.0.0.0\n" +
			fmt.Sprintf("  curl http://127.0.0.1:%d/v1/chat/completions -d '{\"model\":\"qwen\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}'", server.DefaultPort),
		Args: argsBetween(0, -1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.preload = args
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runServe(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.host, "host", "", "address to listen on (default 127.0.0.1, or OLM_HOST)")
	f.IntVar(&o.port, "port", 0, fmt.Sprintf("port to listen on (default %d, or OLM_HOST)", server.DefaultPort))
	f.IntVar(&o.parallel, "parallel", 4, "requests decoded together per model (slots)")
	f.IntVar(&o.ctx, "ctx", 0, "context per slot in tokens (default: the model's training context, at most 4096)")
	f.IntVar(&o.batch, "batch", 512, "tokens per decode; long prompts are prefilled in chunks of it")
	f.IntVarP(&o.threads, "threads", "t", 0, fmt.Sprintf("CPU threads per model (default: %d, one per physical core)", runner.PhysicalCores()))
	f.IntVar(&o.gpuLayers, "gpu-layers", runner.AutoGPULayers, "offload `N` layers to the GPU: -1 as many as fit, 0 none")
	f.IntVar(&o.maxQueue, "max-queue", 64, "requests that may wait per model when every slot is busy; beyond, 503")
	f.DurationVar(&o.keepAlive, "keep-alive", 5*time.Minute, "how long an idle model stays loaded (requests may say otherwise)")
	f.StringVar(&o.apiKey, "api-key", "", "require this Bearer token (default: OLM_API_KEY)")
	f.BoolVar(&o.noAuth, "no-auth", false, "allow listening beyond loopback without an API key")
	f.StringSliceVar(&o.origins, "origins", nil, "browser origins allowed besides localhost (comma list; * for any)")
	f.BoolVar(&o.pull, "pull", false, "pull a model a request names when it is not on this machine")
	f.DurationVar(&o.drain, "drain", 30*time.Second, "on SIGTERM, how long running requests may finish before they are cancelled")
	return cmd
}

// listenAddr joins --host, --port and OLM_HOST (HOST, HOST:PORT or :PORT); flags win.
func (o *serveOptions) listenAddr(env func(string) string) (string, error) {
	host, port := "127.0.0.1", strconv.Itoa(server.DefaultPort)
	if v := strings.TrimSpace(env("OLM_HOST")); v != "" {
		v = strings.TrimPrefix(strings.TrimPrefix(v, "http://"), "https://")
		if h, p, err := net.SplitHostPort(v); err == nil {
			if h != "" {
				host = h
			}
			port = p
		} else {
			host = v
		}
	}
	if o.host != "" {
		host = o.host
	}
	if o.port != 0 {
		port = strconv.Itoa(o.port)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return "", fmt.Errorf("port %q: use 1 to 65535 (--port or OLM_HOST=HOST:PORT)", port)
	}
	return net.JoinHostPort(host, port), nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func runServe(ctx context.Context, o *serveOptions) error {
	addr, err := o.listenAddr(os.Getenv)
	if err != nil {
		return err
	}
	if o.apiKey == "" {
		o.apiKey = os.Getenv("OLM_API_KEY")
	}
	host, _, _ := net.SplitHostPort(addr)
	if !isLoopback(host) && o.apiKey == "" && !o.noAuth {
		return fmt.Errorf("listening on %s without an API key would open your models to the network: set --api-key (or OLM_API_KEY), or say --no-auth", addr)
	}
	switch {
	case o.parallel < 1:
		return fmt.Errorf("--parallel %d: at least 1 slot", o.parallel)
	case o.ctx < 0:
		return fmt.Errorf("--ctx %d: must be positive (leave it out for the model's default)", o.ctx)
	case o.batch < 1:
		return fmt.Errorf("--batch %d: must be positive", o.batch)
	case o.maxQueue < 0:
		return fmt.Errorf("--max-queue %d: must be 0 or more", o.maxQueue)
	case o.gpuLayers < -1:
		return fmt.Errorf("--gpu-layers %d: must be 0 or more, or -1 for as many as fit", o.gpuLayers)
	}
	if o.threads != 0 {
		if err := runner.ValidateThreads(o.threads); err != nil {
			return err
		}
	}
	d, err := o.deps()
	if err != nil {
		return err
	}
	maxQueue := o.maxQueue
	if maxQueue == 0 {
		maxQueue = -1 // engine: none may wait
	}
	logger := newLogger(o.ios.Err, true)
	srv, err := server.New(server.Config{
		Library: &library{d: d, log: logger}, Slots: o.parallel, Ctx: o.ctx, Batch: o.batch, Threads: o.threads, GPULayers: o.gpuLayers,
		MaxQueue: maxQueue, KeepAlive: o.keepAlive, Pull: o.pull, Memory: o.memory, APIKey: o.apiKey, Origins: o.origins,
		Version: runner.Version, Logger: logger, Preload: o.preload,
	})
	if err != nil {
		return err
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (another server there? pick --port or OLM_HOST)", addr, err)
	}
	// Requests get a context of their own, cancelled only after the drain deadline, so
	// SIGTERM lets running answers finish.
	reqCtx, cancelRequests := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRequests()
	if o.headerTimeout <= 0 {
		o.headerTimeout = 10 * time.Second
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: o.headerTimeout, IdleTimeout: 2 * time.Minute,
		BaseContext: func(net.Listener) context.Context { return reqCtx }}
	fmt.Fprintf(o.ios.Err, "olm serve: listening on http://%s (OpenAI API at /v1, ollama API at /api)\n", ln.Addr())
	if o.ready != nil {
		o.ready(ln.Addr().String())
	}
	srv.StartPreload(reqCtx)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(stop)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	case <-stop:
	}
	fmt.Fprintf(o.ios.Err, "olm serve: stopping: no new requests; running ones have %s to finish\n", o.drain)
	dctx, cancel := context.WithTimeout(context.Background(), o.drain)
	defer cancel()
	go func() { <-dctx.Done(); cancelRequests() }() // past the deadline, cancel what still runs
	if err := hs.Shutdown(dctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	cancelRequests()
	if err := hs.Shutdown(context.Background()); err != nil {
		return err
	}
	fmt.Fprintln(o.ios.Err, "olm serve: stopped")
	return nil
}

// library gives the server the model commands' resolution, listing, pulls and removal.
type library struct {
	d   *modelDeps
	log *slog.Logger // where a pull that no client watches says it waits (--pull)
}

func (l *library) Resolve(ctx context.Context, name string, pull bool) (server.Resolved, error) {
	// A request that pulls (--pull) has no progress stream: waits before a retry go to the log.
	logWaits := func(e models.Event) {
		if e.Phase == models.PhaseWait {
			l.log.Info("pull waits", "model", name, "file", e.File, "wait", e.Message)
		}
	}
	d := l.d.announcingWaits(logWaits)
	found, err := models.Ensure(ctx, d.resolver(), d.Env.Store(), d.hub(), name, pull, func(models.Ref) models.Progress { return logWaits })
	ref := found.Ref
	switch {
	case errors.Is(err, models.ErrNotPulled):
		return server.Resolved{}, fmt.Errorf("%w: pull it (olm pull %s, or POST /api/pull), or start olm serve with --pull", err, ref.Name)
	case err != nil && ref.Name != "":
		return server.Resolved{}, l.d.explainHubError(ref.Name, err)
	case err != nil:
		return server.Resolved{}, err
	}
	r := server.Resolved{Name: ref.Name, Path: found.Paths[0]}
	if ref.Source == models.SourceFile {
		r.Name = name
	}
	if ref.Model != nil {
		r.Template = ref.Model.Template
	}
	return r, nil
}

func (l *library) List() ([]server.LocalModel, error) {
	list, err := models.List(l.d.Env, l.d.Catalog)
	var out []server.LocalModel
	for _, m := range list {
		lm := server.LocalModel{Name: m.Name, Path: m.Path, Size: m.Size, Quant: m.Quant}
		if st, err := os.Stat(m.Path); err == nil {
			lm.Modified = st.ModTime()
		}
		out = append(out, lm)
	}
	return out, err
}

func (l *library) Pull(ctx context.Context, name string, progress func(server.PullProgress)) error {
	report := func(e models.Event) {
		switch e.Phase {
		case models.PhaseDownload:
			progress(server.PullProgress{Status: "pulling " + e.File, Digest: e.File, Total: e.Total, Completed: e.Done})
		case models.PhaseVerify:
			progress(server.PullProgress{Status: "verifying sha256 digest"})
		case models.PhaseLinked:
			progress(server.PullProgress{Status: "writing manifest"})
		case models.PhaseWarning:
			progress(server.PullProgress{Status: "warning: " + e.Message})
		case models.PhaseWait:
			progress(server.PullProgress{Status: e.File + ": " + e.Message})
		}
	}
	d := l.d.announcingWaits(report)
	ref, err := d.resolver().Resolve(ctx, name)
	if err != nil {
		return err
	}
	_, err = models.Pull(ctx, d.Env.Store(), ref, d.hub(), report)
	if err != nil {
		return d.explainHubError(ref.Name, err)
	}
	return nil
}

func (l *library) Delete(name string) error {
	r := l.d.resolver()
	r.Lister = nil
	ref, err := r.Resolve(context.Background(), name)
	if err != nil {
		return err
	}
	_, err = models.Remove(l.d.Env, ref)
	if errors.Is(err, models.ErrNotLocal) {
		return fmt.Errorf("%w: %s is not downloaded", models.ErrNotPulled, ref.Name)
	}
	return err
}
