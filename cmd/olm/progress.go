package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/olm-dev/olm/download"
	"github.com/olm-dev/olm/models"
)

// progressMode picks how a pull is shown: a bar on a terminal, lines in logs, JSON for
// scripts (--json), nothing (--quiet).
func progressMode(ios *ioStreams, jsonOut, quiet bool) download.RenderMode {
	switch {
	case jsonOut:
		return download.RenderJSON
	case quiet:
		return download.RenderQuiet
	case ios.ErrTTY:
		return download.RenderBar
	default:
		return download.RenderPlain
	}
}

// pullProgress renders models.Pull events. Bytes moving (download, verify) go to
// download's renderer; the steps around them (cached, warnings) are lines of their own.
// It also remembers how far each file got, for the Ctrl-C message.
type pullProgress struct {
	mode download.RenderMode
	w    io.Writer
	r    *download.Renderer

	mu   sync.Mutex
	open map[string]bool // files with a bar or lines in flight
	last map[string]models.Event
	// header is printed before the first event past resolve, so a pull that fails at
	// its first contact with the hub prints only its one-line error.
	header string
}

func newPullProgress(w io.Writer, mode download.RenderMode) *pullProgress {
	p := &pullProgress{mode: mode, w: w, open: map[string]bool{}, last: map[string]models.Event{}}
	if mode == download.RenderBar || mode == download.RenderPlain {
		p.r = download.NewRenderer(w, mode)
	}
	return p
}

// jsonEvent is one line of `olm pull --json`.
type jsonEvent struct {
	Phase      string   `json:"phase"`
	File       string   `json:"file,omitempty"`
	Done       int64    `json:"done,omitempty"`
	Total      int64    `json:"total,omitempty"`
	BytesPerS  float64  `json:"bytes_per_second,omitempty"`
	ETASeconds float64  `json:"eta_seconds,omitempty"`
	Message    string   `json:"message,omitempty"`
	Name       string   `json:"name,omitempty"`
	Paths      []string `json:"paths,omitempty"`
	Commit     string   `json:"commit,omitempty"`
	Downloaded *int64   `json:"downloaded,omitempty"`
	Error      string   `json:"error,omitempty"`
}

func (p *pullProgress) emitJSON(e jsonEvent) {
	b, _ := json.Marshal(e)
	p.w.Write(append(b, '\n'))
}

// Event is the models.Progress callback.
func (p *pullProgress) Event(e models.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e.Phase == models.PhaseDownload {
		p.last[e.File] = e
	}
	switch p.mode {
	case download.RenderQuiet:
		return
	case download.RenderJSON:
		p.emitJSON(jsonEvent{Phase: string(e.Phase), File: e.File, Done: e.Done, Total: e.Total,
			BytesPerS: e.Rate, ETASeconds: e.ETA.Seconds(), Message: e.Message})
		return
	}
	if p.header != "" && e.Phase != models.PhaseResolve {
		fmt.Fprintln(p.w, p.header)
		p.header = ""
	}
	switch e.Phase {
	case models.PhaseDownload, models.PhaseVerify:
		ph := download.PhaseDownloading
		if e.Phase == models.PhaseVerify {
			ph = download.PhaseVerifying
		}
		p.open[e.File] = true
		p.r.Update(download.Progress{File: e.File, Phase: ph, Done: e.Done, Total: e.Total, Rate: e.Rate, ETA: e.ETA})
	case models.PhaseCached:
		if p.open[e.File] && p.mode == download.RenderBar {
			p.r.Update(download.Progress{File: e.File, Phase: download.PhaseDone, Done: e.Total, Total: e.Total})
		}
		delete(p.open, e.File)
		fmt.Fprintf(p.w, "%s: already downloaded, sha256 verified\n", e.File)
	case models.PhaseLinked:
		if p.open[e.File] {
			p.r.Update(download.Progress{File: e.File, Phase: download.PhaseDone, Done: e.Total, Total: e.Total})
		}
		delete(p.open, e.File)
	case models.PhaseWarning:
		if e.File == "" {
			fmt.Fprintf(p.w, "olm: warning: %s\n", e.Message)
		} else {
			fmt.Fprintf(p.w, "olm: warning: %s: %s\n", e.File, e.Message)
		}
	case models.PhaseWait:
		fmt.Fprintf(p.w, "olm: %s: %s\n", e.File, e.Message)
	}
}

// partial describes what an interrupted pull left, e.g. "12.0 MiB of 4.1 GiB".
func (p *pullProgress) partial() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var done, total int64
	for _, e := range p.last {
		done += e.Done
		total += e.Total
	}
	if total == 0 {
		return ""
	}
	return fmt.Sprintf("%s of %s", download.HumanBytes(done), download.HumanBytes(total))
}
