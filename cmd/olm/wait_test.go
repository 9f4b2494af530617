package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/olm-dev/olm/download/hftest"
	"github.com/olm-dev/olm/server"
)

// instantClock lets a test play a Retry-After of minutes without waiting for it.
type instantClock struct{}

func (instantClock) Now() time.Time                                   { return time.Now() }
func (instantClock) Sleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }

// depsWithoutWaits is loadModelDeps with a clock whose waits end at once.
func depsWithoutWaits(t *testing.T) *modelDeps {
	t.Helper()
	d, err := loadModelDeps()
	if err != nil {
		t.Fatal(err)
	}
	d.Client.Clock = instantClock{}
	return d
}

// tooMany makes the hub's API answer its next request 429 with Retry-After secs.
func tooMany(hub *hftest.Hub, secs string) {
	hub.Inject(hftest.Fault{Kind: hftest.Status, Server: hftest.API, Code: 429, RetryAfter: secs})
}

// An implicit pull (olm run of a model not pulled yet) says how long it waits when the
// hub answers 429 with Retry-After, as `olm pull` does, instead of hanging silently.
// Retry-After: 2 is the shortest wait that is announced (download's waitNotice), so
// this test waits 2 s of real time: olm run has no clock to play.
func TestImplicitPullAnnouncesRetryAfter(t *testing.T) {
	hub, _, _ := fakeHub(t)
	tooMany(hub, "2") // the listing of the repo, the first call to the hub
	_, errOut := mustRun(t, "", "run", "hf.co/"+tinyRepo, "Hello", "-n", "1", "--temp", "0")
	want := "olm: " + tinyRepo + ": waiting 2s before retrying: "
	if !strings.Contains(errOut, want) || !strings.Contains(errOut, "HTTP 429") || !strings.Contains(errOut, "Retry-After") {
		t.Errorf("stderr %q: want the wait announced (%q, the 429 and its Retry-After)", errOut, want)
	}
}

// olm show of a hf.co name without a file lists the repo: its wait is said too.
func TestShowAnnouncesRetryAfter(t *testing.T) {
	hub, _, _ := fakeHub(t)
	mustRun(t, "", "pull", "-q", tinyName)
	tooMany(hub, "20")
	var out, errb bytes.Buffer
	o := &showOptions{ios: &ioStreams{Out: &out, Err: &errb}, name: "hf.co/" + tinyRepo,
		deps: func() (*modelDeps, error) { return depsWithoutWaits(t), nil }}
	if err := runShow(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if want := "olm: " + tinyRepo + ": waiting 20s before retrying: "; !strings.Contains(errb.String(), want) {
		t.Errorf("stderr %q lacks %q", errb.String(), want)
	}
	if !strings.Contains(out.String(), "llama") {
		t.Errorf("show printed %q after the wait", out.String())
	}
}

// olm serve's pulls: POST /api/pull streams each wait as a status line, the hub's
// (resolve) and the CDN's (download) alike; a request that pulls with --pull logs it.
func TestServePullAnnouncesRetryAfter(t *testing.T) {
	hub, _, _ := fakeHub(t)
	tooMany(hub, "20") // the resolve of the file
	hub.Inject(hftest.Fault{Kind: hftest.Status, Code: 429, RetryAfter: "30"})
	var statuses []string
	l := &library{d: depsWithoutWaits(t), log: slog.New(slog.DiscardHandler)}
	if err := l.Pull(context.Background(), tinyName, func(p server.PullProgress) { statuses = append(statuses, p.Status) }); err != nil {
		t.Fatal(err)
	}
	all := strings.Join(statuses, "\n")
	for _, want := range []string{tinyFile + ": waiting 20s before retrying: ", tinyFile + ": waiting 30s before retrying: "} {
		if !strings.Contains(all, want) {
			t.Errorf("statuses %q lack %q", statuses, want)
		}
	}

	var log bytes.Buffer
	l = &library{d: depsWithoutWaits(t), log: slog.New(slog.NewTextHandler(&log, nil))}
	tooMany(hub, "40") // the listing
	if _, err := l.Resolve(context.Background(), "hf.co/"+catRepo, true); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "waiting 40s before retrying") {
		t.Errorf("log %q: want the --pull wait logged", log.String())
	}
}
