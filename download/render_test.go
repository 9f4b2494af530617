package download

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestRenderJSONLines(t *testing.T) {
	var buf bytes.Buffer
	r := NewRenderer(&buf, RenderJSON)
	r.Update(Progress{File: "a.gguf", Phase: PhaseDownloading, Done: 10, Total: 100, Rate: 5, ETA: 18 * time.Second})
	r.Update(Progress{File: "a.gguf", Phase: PhaseDone, Done: 100, Total: 100})
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines: %q", len(lines), buf.String())
	}
	var p jsonProgress
	if err := json.Unmarshal([]byte(lines[0]), &p); err != nil {
		t.Fatal(err)
	}
	if p.File != "a.gguf" || p.Done != 10 || p.Total != 100 || p.BytesPerS != 5 || p.ETASeconds != 18 || p.Phase != PhaseDownloading {
		t.Errorf("decoded %+v", p)
	}
}

func TestRenderPlainThrottles(t *testing.T) {
	var buf bytes.Buffer
	r := NewRenderer(&buf, RenderPlain)
	now := time.Unix(1000, 0)
	r.now = func() time.Time { return now }
	ev := Progress{File: "a.gguf", Phase: PhaseDownloading, Done: 1 << 20, Total: 4 << 20, Rate: 1 << 20, ETA: 3 * time.Second}
	r.Update(ev)
	now = now.Add(time.Second)
	r.Update(ev) // too soon: dropped
	now = now.Add(plainEvery)
	r.Update(ev)
	r.Update(Progress{File: "a.gguf", Phase: PhaseDone, Done: 4 << 20, Total: 4 << 20})
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %q, want 2 progress lines and done", buf.String())
	}
	if want := "a.gguf: 1.0 MiB / 4.0 MiB (25.0%), 1.0 MiB/s, ETA 3s"; lines[0] != want {
		t.Errorf("line %q, want %q", lines[0], want)
	}
	if !strings.Contains(lines[2], "done") {
		t.Errorf("last line %q", lines[2])
	}
}

func TestRenderQuietAndBar(t *testing.T) {
	var quiet, bar bytes.Buffer
	q, b := NewRenderer(&quiet, RenderQuiet), NewRenderer(&bar, RenderBar)
	for _, ev := range []Progress{
		{File: "a.gguf", Phase: PhaseDownloading, Done: 50, Total: 100},
		{File: "a.gguf", Phase: PhaseDone, Done: 100, Total: 100},
	} {
		q.Update(ev)
		b.Update(ev)
	}
	if quiet.Len() != 0 {
		t.Errorf("quiet wrote %q", quiet.String())
	}
	if !strings.Contains(bar.String(), "a.gguf") || !strings.Contains(bar.String(), "100%") {
		t.Errorf("bar output %q", bar.String())
	}
	if NewRenderer(&bar, RenderAuto).mode != RenderPlain {
		t.Error("auto mode on a non-terminal should be plain")
	}
}
