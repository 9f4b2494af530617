package server

import (
	"embed"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// The chat page: plain HTML, CSS and JavaScript embedded in the binary, no build step and
// nothing loaded from another host, so it works offline. It talks to the OpenAI API below
// like any other client.
//
//go:embed webui/index.html webui/app.js webui/app.css
var webuiFiles embed.FS

// webuiAssets are the files the page loads, by the name under /webui/.
var webuiAssets = map[string]string{
	"app.js":  "text/javascript; charset=utf-8",
	"app.css": "text/css; charset=utf-8",
}

// pageCSP lets the page run only its own script and style and talk only to this server:
// even if model text ever reached the DOM as HTML, no inline handler or script would run.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// wantsPage: a browser asks for / with Accept: text/html; ollama's probe and curl do not,
// and keep getting the plain answer.
func wantsPage(r *http.Request) bool {
	return r.URL.Path == "/" && (r.Method == http.MethodGet || r.Method == http.MethodHead) &&
		strings.Contains(r.Header.Get("Accept"), "text/html")
}

// isPublic names what needs no API key: the health probe and the page's static files,
// which hold no data (the page asks for the key before it calls the API).
func isPublic(r *http.Request) bool {
	if r.URL.Path == "/health" || wantsPage(r) {
		return true
	}
	name, ok := strings.CutPrefix(r.URL.Path, "/webui/")
	return ok && webuiAssets[name] != "" && (r.Method == http.MethodGet || r.Method == http.MethodHead)
}

// pageOr serves the page to browsers and hands other requests for / to next.
func pageOr(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Accept") // one URL, two answers
		if !wantsPage(r) {
			next(w, r)
			return
		}
		servePageFile(w, r, "index.html", "text/html; charset=utf-8")
	}
}

func serveWebUIAsset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	typ := webuiAssets[name]
	if typ == "" {
		http.NotFound(w, r)
		return
	}
	servePageFile(w, r, name, typ)
}

func servePageFile(w http.ResponseWriter, r *http.Request, name, typ string) {
	b, err := webuiFiles.ReadFile("webui/" + name)
	if err != nil { // cannot happen: the names are embedded
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", typ)
	h.Set("Cache-Control", "no-cache") // a new olm's page shows at once
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(b)
	}
}

// sameOrigin: the page calls the API of the server that served it. A browser on another
// machine (olm serve --host 0.0.0.0) sends Origin http://192.168.1.5:11435 with the same
// Host; that is not cross-origin. Only IP literals count: a DNS name could be rebound to
// this server by another site, whose requests then carry a matching Host.
func sameOrigin(r *http.Request, origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || !strings.EqualFold(u.Host, r.Host) {
		return false
	}
	return net.ParseIP(u.Hostname()) != nil
}
