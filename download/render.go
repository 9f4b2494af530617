package download

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// RenderMode picks how progress is shown.
type RenderMode int

const (
	// RenderAuto is a bar on a terminal, plain lines otherwise.
	RenderAuto RenderMode = iota
	RenderBar
	RenderPlain // a line every few seconds, for logs and CI
	RenderJSON  // one JSON object per event (--json)
	RenderQuiet
)

// plainEvery is the interval between plain progress lines.
const plainEvery = 5 * time.Second

// Renderer draws Progress events for any number of files; pass its Update
// method as FetchOptions.Progress. Safe for concurrent use.
type Renderer struct {
	mode RenderMode
	w    io.Writer
	now  func() time.Time

	mu        sync.Mutex
	bars      map[string]*progressbar.ProgressBar
	lastPlain map[string]time.Time
}

// NewRenderer returns a renderer writing to w (usually os.Stderr).
func NewRenderer(w io.Writer, mode RenderMode) *Renderer {
	if mode == RenderAuto {
		mode = RenderPlain
		if isTerminal(w) {
			mode = RenderBar
		}
	}
	return &Renderer{mode: mode, w: w, now: time.Now,
		bars: map[string]*progressbar.ProgressBar{}, lastPlain: map[string]time.Time{}}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// Update draws one event.
func (r *Renderer) Update(p Progress) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch r.mode {
	case RenderBar:
		r.bar(p)
	case RenderPlain:
		r.plain(p)
	case RenderJSON:
		r.json(p)
	}
}

func (r *Renderer) bar(p Progress) {
	b := r.bars[p.File]
	if b == nil {
		b = progressbar.NewOptions64(p.Total,
			progressbar.OptionSetWriter(r.w),
			progressbar.OptionSetDescription(p.File),
			progressbar.OptionShowBytes(true),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(r.w) }),
		)
		r.bars[p.File] = b
	}
	switch p.Phase {
	case PhaseVerifying:
		b.Describe(p.File + " (verifying sha256)")
	case PhaseDone:
		b.Describe(p.File)
		b.Set64(p.Total) // finishes the bar
		delete(r.bars, p.File)
		return
	}
	b.Set64(p.Done)
}

func (r *Renderer) plain(p Progress) {
	now := r.now()
	if p.Phase == PhaseDownloading && now.Sub(r.lastPlain[p.File]) < plainEvery {
		return
	}
	r.lastPlain[p.File] = now
	switch p.Phase {
	case PhaseDone:
		fmt.Fprintf(r.w, "%s: done (%s)\n", p.File, HumanBytes(p.Total))
		delete(r.lastPlain, p.File)
	case PhaseVerifying:
		fmt.Fprintf(r.w, "%s: verifying sha256\n", p.File)
	default:
		fmt.Fprintf(r.w, "%s: %s / %s (%.1f%%)%s\n", p.File, HumanBytes(p.Done), HumanBytes(p.Total), percent(p), rateETA(p))
	}
}

type jsonProgress struct {
	File       string  `json:"file"`
	Phase      Phase   `json:"phase"`
	Done       int64   `json:"done"`
	Total      int64   `json:"total"`
	BytesPerS  float64 `json:"bytes_per_second"`
	ETASeconds float64 `json:"eta_seconds"`
}

func (r *Renderer) json(p Progress) {
	b, _ := json.Marshal(jsonProgress{p.File, p.Phase, p.Done, p.Total, p.Rate, p.ETA.Seconds()})
	r.w.Write(append(b, '\n'))
}

func percent(p Progress) float64 {
	if p.Total <= 0 {
		return 100
	}
	return 100 * float64(p.Done) / float64(p.Total)
}

func rateETA(p Progress) string {
	if p.Rate <= 0 {
		return ""
	}
	return fmt.Sprintf(", %s/s, ETA %s", HumanBytes(int64(p.Rate)), p.ETA.Round(time.Second))
}

// HumanBytes formats a size in binary units ("3.8 GiB"), as every olm command prints sizes.
func HumanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
