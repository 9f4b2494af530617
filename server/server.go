// Package server serves olm's models over HTTP with the two APIs the apps people already
// use speak: OpenAI's (/v1/...) and ollama's (/api/...). Every model it loads runs on one
// engine (package engine), so concurrent requests to a model are decoded together.
package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/olm-dev/olm/models"
	"github.com/olm-dev/olm/runner"
)

// DefaultPort is olm serve's port: ollama's 11434 plus one, so olm can run beside an ollama
// that holds 11434, and ollama users find it where they would look.
const DefaultPort = 11435

// Library is what the server needs from olm's model store; cmd/olm gives it the same
// resolution, listing, pulls and removal its commands use.
type Library interface {
	// Resolve finds a local model by any name the CLI takes. With pull, a model that is not
	// on this machine is pulled first; without, it is ErrNotPulled.
	Resolve(ctx context.Context, name string, pull bool) (Resolved, error)
	// List is what olm list shows.
	List() ([]LocalModel, error)
	// Pull pulls a model, reporting progress.
	Pull(ctx context.Context, name string, progress func(PullProgress)) error
	// Delete removes a model from this machine.
	Delete(name string) error
}

// Resolved is a model's file and what the catalog knows about it.
type Resolved struct {
	Name     string // the name clients see
	Path     string
	Template string // the catalog's template name, "" if none
}

// LocalModel is one row of olm list.
type LocalModel struct {
	Name     string
	Path     string
	Size     int64
	Quant    string
	Modified time.Time
}

// PullProgress is one step of a pull, in ollama's terms.
type PullProgress struct {
	Status    string
	Digest    string
	Total     int64
	Completed int64
}

// Library errors the server maps to HTTP statuses.
var (
	ErrUnknownModel = models.ErrUnknownModel // 404; the error's text says what was meant
	ErrNotPulled    = models.ErrNotPulled
)

// Config sets up a server. Zero values take the defaults named.
type Config struct {
	Library   Library
	Slots     int           // sequences per model (default 4)
	Ctx       int           // tokens per slot (default: engine.DefaultContext of the model)
	Batch     int           // tokens per decode (default 512)
	Threads   int           // CPU threads per model (default: physical cores)
	GPULayers int           // runner.AutoGPULayers by default... set by the caller
	MaxQueue  int           // requests waiting per model beyond its slots (default 64)
	KeepAlive time.Duration // how long an idle model stays loaded (default 5 minutes)
	Memory    int64         // bytes models may take together (default: the machine's RAM)
	Pull      bool          // pull a model a request names when it is not on this machine
	APIKey    string        // Bearer token every endpoint but /health requires ("": none)
	Origins   []string      // browser origins allowed beside localhost ones; "*" allows all
	MaxBody   int64         // request body limit in bytes (default 32 MiB)
	Version   string        // olm's version, for /api/version
	Logger    *slog.Logger  // access log (nil: discard)
	Preload   []string      // models loaded at start; /health is 503 until they are
	Now       func() time.Time
}

// Server is the HTTP handler tree over the loaded models.
type Server struct {
	cfg     Config
	models  *manager
	metrics *metrics
	mux     *http.ServeMux
	loading atomic.Int64 // preloads in progress
	reqID   atomic.Uint64
}

// New builds a server; Close unloads its models.
func New(cfg Config) (*Server, error) {
	if cfg.Library == nil {
		return nil, errors.New("server: no model library")
	}
	if cfg.Slots == 0 {
		cfg.Slots = 4
	}
	if cfg.Slots < 0 {
		return nil, fmt.Errorf("--parallel %d: at least one slot", cfg.Slots)
	}
	if cfg.KeepAlive == 0 {
		cfg.KeepAlive = 5 * time.Minute
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 32 << 20
	}
	if cfg.Memory <= 0 {
		cfg.Memory = int64(runner.DescribeMachine().RAM)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{cfg: cfg, metrics: newMetrics()}
	s.models = newManager(s)
	s.metrics.reg.MustRegister(engineCollector{s.models})
	s.routes()
	return s, nil
}

// Preload loads the configured models; /health answers 503 until it returns.
func (s *Server) Preload(ctx context.Context) error {
	s.loading.Add(1)
	defer s.loading.Add(-1)
	for _, name := range s.cfg.Preload {
		lm, err := s.models.acquire(ctx, name, nil)
		if err != nil {
			return fmt.Errorf("preload %s: %w", name, err)
		}
		s.models.release(lm, nil)
	}
	return nil
}

// StartPreload marks the server as loading at once, then preloads in the background; errors
// go to the log.
func (s *Server) StartPreload(ctx context.Context) {
	if len(s.cfg.Preload) == 0 {
		return
	}
	s.loading.Add(1)
	go func() {
		defer s.loading.Add(-1)
		if err := s.Preload(ctx); err != nil {
			s.cfg.Logger.Error("preload failed", "err", err)
		}
	}()
}

// Close unloads every model.
func (s *Server) Close() { s.models.closeAll() }

// Metrics is the Prometheus handler (also served at /metrics).
func (s *Server) Metrics() http.Handler { return s.metrics.handler() }

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /health", s.health)
	m.Handle("GET /metrics", s.metrics.handler())
	m.HandleFunc("POST /v1/chat/completions", s.openaiChat)
	m.HandleFunc("POST /v1/completions", s.openaiCompletion)
	m.HandleFunc("GET /v1/models", s.openaiModels)
	m.HandleFunc("GET /v1/models/{id...}", s.openaiModel)
	m.HandleFunc("POST /api/chat", s.ollamaChat)
	m.HandleFunc("POST /api/generate", s.ollamaGenerate)
	m.HandleFunc("GET /api/tags", s.ollamaTags)
	m.HandleFunc("POST /api/show", s.ollamaShow)
	m.HandleFunc("GET /api/ps", s.ollamaPS)
	m.HandleFunc("POST /api/pull", s.ollamaPull)
	m.HandleFunc("DELETE /api/delete", s.ollamaDelete)
	m.HandleFunc("GET /api/version", s.ollamaVersion)
	m.HandleFunc("GET /{$}", pageOr(s.root)) // browsers get the chat page (webui.go)
	m.HandleFunc("HEAD /{$}", pageOr(s.root))
	m.HandleFunc("GET /webui/{file}", serveWebUIAsset)
	s.mux = m
}

// Handler is the server with its middleware: request ids, the access log, metrics, CORS,
// the API key and the body limit.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.cfg.Now()
		id := fmt.Sprintf("%x", s.reqID.Add(1))
		rec := &recorder{ResponseWriter: w, status: 200}
		rec.Header().Set("X-Request-Id", id)
		_, pattern := s.mux.Handler(r)
		endpoint := pattern
		if endpoint == "" {
			endpoint = "unmatched"
		}
		defer func() {
			s.metrics.requests.WithLabelValues(endpoint, fmt.Sprint(rec.status)).Inc()
			s.cfg.Logger.Info("request", "id", id, "method", r.Method, "path", r.URL.Path, "status", rec.status,
				"bytes", rec.bytes, "duration", s.cfg.Now().Sub(start), "remote", r.RemoteAddr)
		}()
		if !s.cors(rec, r) {
			return
		}
		if r.Method == http.MethodOptions {
			rec.WriteHeader(http.StatusNoContent)
			return
		}
		if !isPublic(r) && !s.authorized(r) {
			writeAuthError(rec, r)
			return
		}
		r.Body = http.MaxBytesReader(rec, r.Body, s.cfg.MaxBody)
		s.mux.ServeHTTP(rec, r)
	})
}

// authorized checks the Bearer token in constant time.
func (s *Server) authorized(r *http.Request) bool {
	if s.cfg.APIKey == "" {
		return true
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(s.cfg.APIKey)) == 1
}

// cors lets pages from localhost (and --origins) call the API from a browser; any other
// origin is refused with 403, as a model server on a LAN should.
func (s *Server) cors(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || sameOrigin(r, origin) {
		return true
	}
	if !s.originAllowed(origin) {
		writeError(w, r, http.StatusForbidden, "origin %s is not allowed: start olm serve with --origins %s", origin, origin)
		return false
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Vary", "Origin")
	h.Set("Access-Control-Allow-Methods", "GET, POST, DELETE, HEAD, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Requested-With")
	return true
}

func (s *Server) originAllowed(origin string) bool {
	for _, o := range s.cfg.Origins {
		if o == "*" || strings.EqualFold(o, origin) {
			return true
		}
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	if s.loading.Load() > 0 {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "loading model"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) root(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		fmt.Fprint(w, "olm is running")
	}
}

// recorder keeps the status and size for the access log and metrics, and passes
// Flush through for streams.
type recorder struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wroteHeader {
		r.status, r.wroteHeader = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wroteHeader = true
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
