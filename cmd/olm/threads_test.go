package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/olm-dev/olm/runner"
)

// The glue that picks run's and chat's threads from the CPU load seen while the model
// loads: samples before and after, 4 cores, other processes keeping some busy.
func TestThreadsFollowTheLoadDuringModelLoad(t *testing.T) {
	t0 := time.Unix(1000, 0)
	// Over 1 s on 4 CPUs (100 jiffies each): this process used 50, others busyJiffies.
	samples := func(busyJiffies uint64, window time.Duration) []runner.CPUSample {
		return []runner.CPUSample{
			{Busy: 1000, Total: 10000, Self: 100, CPUs: 4, At: t0},
			{Busy: 1000 + 50 + busyJiffies, Total: 10400, Self: 150, CPUs: 4, At: t0.Add(window)},
		}
	}
	for _, c := range []struct {
		name       string
		args       []string
		samples    []runner.CPUSample
		want       int
		wantNotice string
	}{
		{"idle machine", nil, samples(0, time.Second), 4, ""},
		{"two cores busy", nil, samples(200, time.Second), 2, "using 2 of 4 cores: other processes keep 2.0 busy"},
		{"load too short to judge", nil, samples(200, 50*time.Millisecond), 4, ""},
		{"--threads wins", []string{"--threads", "3"}, samples(300, time.Second), 3, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			var f genFlags
			fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
			f.register(fs)
			if err := fs.Parse(c.args); err != nil {
				t.Fatal(err)
			}
			next := 0
			f.sampleCPU = func() (runner.CPUSample, error) {
				s := c.samples[min(next, len(c.samples)-1)]
				next++
				return s, nil
			}
			f.cores = func() int { return 4 }
			var notices bytes.Buffer
			f.modelOptions(&ioStreams{Err: &notices})
			if threads := f.threadCount(); threads != c.want {
				t.Errorf("threads %d, want %d", threads, c.want)
			}
			if got := strings.TrimSpace(notices.String()); (c.wantNotice == "") != (got == "") || !strings.Contains(got, c.wantNotice) {
				t.Errorf("notice %q, want %q", got, c.wantNotice)
			}
		})
	}
}
