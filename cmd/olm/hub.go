package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/olm-dev/olm/download"
	"github.com/olm-dev/olm/models"
)

// modelDeps is what the model commands share: where files live, the catalog and the hub
// client. Everything taken from the process environment is read here, in one place.
type modelDeps struct {
	Env     models.Env
	Catalog *models.Catalog
	Client  *download.Client // HF_ENDPOINT, HF_TOKEN or the stored token, HF_HUB_OFFLINE
	// TokenFromEnv says the token came from HF_TOKEN, which wins over `olm login`'s.
	TokenFromEnv bool
}

// loadModelDeps is the production Deps of the model commands.
func loadModelDeps() (*modelDeps, error) {
	env, err := models.EnvFromOS()
	if err != nil {
		return nil, err
	}
	cat, err := models.LoadCatalog()
	if err != nil {
		return nil, fmt.Errorf("load the model catalog: %w", err)
	}
	c := download.NewFromEnv()
	d := &modelDeps{Env: env, Catalog: cat, Client: c, TokenFromEnv: c.Token != ""}
	// download reads only HF_TOKEN; `olm login`'s token is the fallback.
	if c.Token == "" {
		tok, err := readToken(env)
		if err != nil {
			return nil, err
		}
		c.Token = tok
	}
	return d, nil
}

// metaRetries bounds the retries of the first calls to the hub (list, resolve): a
// refused connection or a missing network should be reported within seconds, while
// downloads keep the client's full retry budget.
const metaRetries = 2

// hub returns the models.Hub for pulls: metadata calls fail fast, Fetch retries fully.
func (d *modelDeps) hub() models.Hub {
	meta := *d.Client
	meta.MaxRetries = metaRetries
	return splitHub{meta: &meta, data: d.Client}
}

// announcingWaits returns a copy of d whose client tells progress, as a PhaseWait event,
// of each long wait before a List or Resolve is retried (a Retry-After of minutes), as
// Fetch reports its own waits: otherwise a pull, explicit or not, is silent for as long
// as the hub asks. Every command that may talk to the hub takes its hub and resolver
// from such a copy; d itself is left as it is, since olm serve shares it between requests.
func (d *modelDeps) announcingWaits(progress models.Progress) *modelDeps {
	c := *d.Client
	c.OnWait = func(what, msg string) { progress(models.Event{File: what, Phase: models.PhaseWait, Message: msg}) }
	a := *d
	a.Client = &c
	return &a
}

// resolver resolves names; offline it lists repos from the hub cache only.
func (d *modelDeps) resolver() models.Resolver {
	r := models.Resolver{Catalog: d.Catalog, Env: d.Env}
	if !d.Client.Offline {
		r.Lister = d.hub()
	}
	return r
}

// endpoint is the hub's base URL, as the client uses it.
func (d *modelDeps) endpoint() string {
	if d.Client.Endpoint != "" {
		return strings.TrimRight(d.Client.Endpoint, "/")
	}
	return download.DefaultEndpoint
}

// resolveURL is where a repo file is served (before the CDN redirect).
func (d *modelDeps) resolveURL(repo, rev, file string) string {
	return d.endpoint() + "/" + repo + "/resolve/" + url.PathEscape(rev) + "/" + (&url.URL{Path: file}).EscapedPath()
}

type splitHub struct{ meta, data *download.Client }

func (h splitHub) List(ctx context.Context, repo, rev string) ([]download.RemoteFile, error) {
	return h.meta.List(ctx, repo, rev)
}

func (h splitHub) Resolve(ctx context.Context, repo, rev, file string) (download.Remote, error) {
	return h.meta.Resolve(ctx, repo, rev, file)
}

func (h splitHub) Fetch(ctx context.Context, r download.Remote, dst string, opts download.FetchOptions) error {
	return h.data.Fetch(ctx, r, dst, opts)
}

func (h splitHub) CheckSpace(dir string, need int64) error { return h.data.CheckSpace(dir, need) }

// hintError replaces an error's text with one line that says what to do, keeping the
// cause for errors.Is.
type hintError struct {
	msg string
	err error
}

func (e *hintError) Error() string { return e.msg }
func (e *hintError) Unwrap() error { return e.err }

// explainHubError turns the hub failures a user can fix into one line naming the fix.
// Errors olm cannot add to (404, checksum, disk space) pass through unchanged.
func (d *modelDeps) explainHubError(name string, err error) error {
	if err == nil || errors.Is(err, context.Canceled) {
		return err
	}
	switch {
	case errors.Is(err, download.ErrOffline):
		return &hintError{err: err, msg: fmt.Sprintf(
			"%s is not on this machine and olm is offline (--offline or HF_HUB_OFFLINE=1): pull it while online, or use `olm import FILE.gguf` for a file you have", name)}
	case errors.Is(err, download.ErrUnauthorized):
		fix := "run `olm login` (or set HF_TOKEN) with a token that can read it"
		if d.Client.Token != "" {
			fix = "the token was refused: check it has read access (`olm login` stores a new one; HF_TOKEN wins over it)"
		}
		return &hintError{err: err, msg: fmt.Sprintf(
			"%s: Hugging Face denied access: the repo is gated or private: %s, and accept the model's license on its Hugging Face page", name, fix)}
	case errors.Is(err, download.ErrNotFound):
		where := ""
		var he *download.HTTPError
		if errors.As(err, &he) {
			where = " (" + he.URL + ")"
		}
		return &hintError{err: err, msg: fmt.Sprintf(
			"%s: not found on Hugging Face%s: check the OWNER/REPO spelling, the revision and the file name (olm catalog lists known models)", name, where)}
	}
	if cause, ok := networkCause(err); ok {
		return &hintError{err: err, msg: fmt.Sprintf(
			"cannot reach Hugging Face at %s (%s): for a GGUF file you have, use `olm import FILE.gguf`; for an offline speed test, `olm bench --synthetic`",
			d.endpoint(), cause)}
	}
	return err
}

// networkCause reports whether err is a transport failure (no route, refused, DNS, TLS)
// rather than an answer from the hub, and names it.
func networkCause(err error) (string, bool) {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return dnsErr.Error(), true
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return opErr.Error(), true
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return urlErr.Err.Error(), true
	}
	return "", false
}

// tokenFile is where `olm login` keeps the Hugging Face token.
func tokenFile(env models.Env) string { return filepath.Join(env.OlmHome, "token") }

// readToken returns the stored token, "" when there is none.
func readToken(env models.Env) (string, error) {
	if env.OlmHome == "" {
		return "", nil
	}
	b, err := os.ReadFile(tokenFile(env))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read the stored Hugging Face token: %w (run `olm login` again)", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// writeToken stores the token readable by this user only. The file is created 0600 and
// renamed into place, so the token is never briefly world-readable.
func writeToken(env models.Env, tok string) (string, error) {
	if err := os.MkdirAll(env.OlmHome, 0o700); err != nil {
		return "", fmt.Errorf("store token: %w", err)
	}
	dst := tokenFile(env)
	f, err := os.CreateTemp(env.OlmHome, ".token-*")
	if err != nil {
		return "", fmt.Errorf("store token: %w", err)
	}
	defer os.Remove(f.Name()) // no-op after the rename
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return "", fmt.Errorf("store token: %w", err)
	}
	if _, err := f.WriteString(tok + "\n"); err != nil {
		f.Close()
		return "", fmt.Errorf("store token: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", fmt.Errorf("store token: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("store token: %w", err)
	}
	if err := os.Rename(f.Name(), dst); err != nil {
		return "", fmt.Errorf("store token: %w", err)
	}
	return dst, nil
}
