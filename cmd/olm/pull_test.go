package main

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/olm-dev/olm/download"
	"github.com/olm-dev/olm/download/hftest"
	"github.com/olm-dev/olm/models"
)

// TestPullInterruptKeepsPartial: Ctrl-C (a cancelled context) while the CDN stalls keeps
// the partial download, says how to resume, exits 130; the next pull completes it.
func TestPullInterruptKeepsPartial(t *testing.T) {
	hub, hubCache, _ := fakeHub(t)
	hub.Inject(hftest.Fault{Kind: hftest.Stall, After: 4096})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-hub.Stalls():
			cancel()
		case <-ctx.Done():
		}
	}()
	out, errOut, code := runOLMContext(ctx, t, "", "pull", tinyName)
	if code != 130 {
		t.Fatalf("exit %d, want 130; stderr %q", code, errOut)
	}
	if out != "" {
		t.Errorf("an interrupted pull printed a path: %q", out)
	}
	for _, want := range []string{"interrupted", "partial download", "run `olm pull " + tinyName + "` again to resume"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr %q lacks %q", errOut, want)
		}
	}
	blobs := filepath.Join(hubCache, "models--olm-test--tiny-GGUF", "blobs")
	if _, err := os.Stat(filepath.Join(blobs, tinySHA(t)+".partial")); err != nil {
		t.Fatalf("partial download not kept: %v", err)
	}
	if _, err := os.Stat(filepath.Join(blobs, tinySHA(t))); err == nil {
		t.Fatal("an unverified blob was put in place")
	}

	hub.Release()
	out, _ = mustRun(t, "", "pull", tinyName)
	if got, err := os.ReadFile(strings.TrimSpace(out)); err != nil || string(got) != string(tinyBytes(t)) {
		t.Fatalf("resumed pull: %v", err)
	}
	if _, err := os.Stat(filepath.Join(blobs, tinySHA(t)+".partial")); !os.IsNotExist(err) {
		t.Errorf("partial file left after the resumed pull: %v", err)
	}
}

// TestPullJSON: every stdout line is a JSON event; the last one says where the file is.
func TestPullJSON(t *testing.T) {
	fakeHub(t)
	out, errOut := mustRun(t, "", "pull", "--json", tinyName)
	if errOut != "" {
		t.Errorf("stderr not empty with --json: %q", errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var phases []string
	var last jsonEvent
	for _, l := range lines {
		var e jsonEvent
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		phases = append(phases, e.Phase)
		last = e
	}
	if !strings.Contains(strings.Join(phases, " "), "download") {
		t.Errorf("no download events: %v", phases)
	}
	if last.Phase != "pulled" || last.Name != tinyName || len(last.Paths) != 1 || last.Downloaded == nil || *last.Downloaded != int64(len(tinyBytes(t))) {
		t.Errorf("last event %+v", last)
	}

	// A failure is an event too, so a script reading stdout sees it.
	out, _, code := runOLM(t, "", "pull", "--json", "tinylama")
	var e jsonEvent
	if code != 1 || json.Unmarshal([]byte(out), &e) != nil || e.Phase != "error" || !strings.Contains(e.Error, "did you mean") {
		t.Errorf("--json failure: exit %d, stdout %q", code, out)
	}
}

func TestPullQuietPrintsOnlyThePath(t *testing.T) {
	fakeHub(t)
	out, errOut := mustRun(t, "", "pull", "-q", tinyName)
	if errOut != "" || strings.Count(out, "\n") != 1 || !strings.HasSuffix(strings.TrimSpace(out), tinyFile) {
		t.Errorf("stdout %q, stderr %q", out, errOut)
	}
	mustFail(t, []string{"pull", tinyName, "--connections", "-1"}, "--connections -1")
}

// TestPullFlags checks flag parsing alone, through runF.
func TestPullFlags(t *testing.T) {
	var got *pullOptions
	cmd := newPullCmd(&ioStreams{}, func(_ context.Context, o *pullOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"mistral", "--json", "--connections", "8", "--offline", "-q"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.name != "mistral" || !got.json || got.connections != 8 || !got.offline || !got.quiet {
		t.Errorf("parsed %+v", got)
	}
}

// TestPullVerifyRehashes: a second pull trusts the blob olm verified; --verify hashes it again.
func TestPullVerifyRehashes(t *testing.T) {
	fakeHub(t)
	mustRun(t, "", "pull", "-q", tinyName)
	phases := func(args ...string) string {
		t.Helper()
		out, _ := mustRun(t, "", append([]string{"pull", "--json", tinyName}, args...)...)
		var ph []string
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			var e jsonEvent
			if err := json.Unmarshal([]byte(l), &e); err != nil {
				t.Fatalf("line %q: %v", l, err)
			}
			ph = append(ph, e.Phase)
		}
		return strings.Join(ph, " ")
	}
	if ph := phases(); strings.Contains(ph, "verify") || strings.Contains(ph, "download") || !strings.Contains(ph, "cached") {
		t.Errorf("second pull: phases %s; want cached, no hashing", ph)
	}
	if ph := phases("--verify"); !strings.Contains(ph, "verify") || strings.Contains(ph, "download") {
		t.Errorf("pull --verify: phases %s; want the cached file hashed", ph)
	}
}

// A wait before a retry and a warning without a file each get a line of
// their own, saying what happens.
func TestPullProgressPrintsWaitsAndWarnings(t *testing.T) {
	var b strings.Builder
	p := newPullProgress(&b, download.RenderPlain)
	p.Event(models.Event{File: "m.gguf", Phase: models.PhaseWait, Message: "waiting 3m0s before retrying: HTTP 429"})
	p.Event(models.Event{Phase: models.PhaseWarning, Message: "skipped a file"})
	want := "olm: m.gguf: waiting 3m0s before retrying: HTTP 429\nolm: warning: skipped a file\n"
	if b.String() != want {
		t.Errorf("printed %q, want %q", b.String(), want)
	}
}

// A hub claiming an 8 EiB file gets a one-line refusal from the disk-space check, not
// an allocation until the OOM killer comes (issue 14).
func TestPullRefusesAbsurdSize(t *testing.T) {
	hub := hftest.New(t)
	hub.Add("olm-test/huge-GGUF", "huge.Q8_0.gguf", []byte("GGUF"))
	hub.SetLinkedSize("olm-test/huge-GGUF", "huge.Q8_0.gguf", math.MaxInt64)
	modelEnv(t, hub.URL())
	_, errOut, code := runOLM(t, "", "pull", "hf.co/olm-test/huge-GGUF:huge.Q8_0.gguf")
	if code != 1 || !strings.Contains(errOut, "not enough disk space") || strings.Count(strings.TrimSpace(errOut), "\n") > 2 {
		t.Errorf("exit %d, stderr %q; want a short disk-space refusal", code, errOut)
	}
}

// One unsafe name in a repo's listing is skipped with a warning; the other quants pull.
func TestPullSkipsUnsafeNameInListing(t *testing.T) {
	hub := hftest.New(t)
	hub.Add("olm-test/mixed-GGUF", "m.Q4_K_M.gguf", []byte("GGUF q4"))
	hub.AddTreeEntry("olm-test/mixed-GGUF", hftest.TreeEntry{Type: "file", Path: "../evil.Q8_0.gguf", Size: 1})
	modelEnv(t, hub.URL())
	out, errOut, code := runOLM(t, "", "pull", "hf.co/olm-test/mixed-GGUF")
	if code != 0 || !strings.HasSuffix(strings.TrimSpace(out), "m.Q4_K_M.gguf") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if !strings.Contains(errOut, "olm: warning: skipped") || !strings.Contains(errOut, "../evil.Q8_0.gguf") {
		t.Errorf("stderr %q: want a warning naming the skipped file", errOut)
	}
	_, errOut, code = runOLM(t, "", "pull", "hf.co/olm-test/mixed-GGUF:Q8_0")
	if code != 1 || !strings.Contains(errOut, "unsafe file name") {
		t.Errorf("pulling the unsafe quant: exit %d, stderr %q", code, errOut)
	}
}
