//go:build unix

package download

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/olm-dev/olm/download/hftest"
)

// killChildEnv carries the child's job (JSON of killJob) when the test
// binary re-executes itself as the process to be killed.
const killChildEnv = "OLM_DOWNLOAD_KILL_CHILD"

type killJob struct {
	Endpoint string
	Remote   Remote
	Dst      string
}

// A Fetch killed with SIGKILL leaves a state that claims only bytes that
// are on disk; the next Fetch requests only what that state lacks and
// continues the persisted hash.
func TestKill9ResumesFromPersistedState(t *testing.T) {
	e := newEnv(t)
	data := randomBytes(1 << 20)
	r := e.resolve("m.gguf", data)
	dst := e.dst("m.gguf")
	// Chunk 0 arrives whole, chunk 1 stalls after 100000 bytes: the child
	// is stuck mid-download with progress to persist.
	e.hub.Inject(hftest.Fault{Kind: hftest.Stall, After: 100_000, Skip: 1})
	const want = 256<<10 + 100_000

	job, _ := json.Marshal(killJob{Endpoint: e.hub.URL(), Remote: r, Dst: dst})
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKill9Child$")
	cmd.Env = append(os.Environ(), killChildEnv+"="+string(job))
	cmd.ExtraFiles = []*os.File{pw} // fd 3: a line per persisted state
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()

	persisted := make(chan error, 1)
	go func() {
		lines := bufio.NewScanner(pr)
		for lines.Scan() {
			if n, _ := strconv.ParseInt(lines.Text(), 10, 64); n == want {
				persisted <- nil
				return
			}
		}
		persisted <- fmt.Errorf("child exited before persisting %d bytes: %v", want, lines.Err())
	}()
	select {
	case err = <-persisted:
	case <-time.After(time.Minute): // a guard, not synchronisation
		err = fmt.Errorf("no checkpoint of %d bytes within a minute", want)
	}
	cmd.Process.Kill() // SIGKILL: no deferred cleanup runs in the child
	cmd.Wait()
	if err != nil {
		t.Fatalf("%v\nchild stderr:\n%s", err, stderr.Bytes())
	}

	st, err := loadState(dst + ".partial.json")
	if err != nil {
		t.Fatal(err)
	}
	if f := st.frontier(); f != want {
		t.Fatalf("state after kill: prefix %d, want %d", f, want)
	}
	partial, err := os.ReadFile(dst + ".partial")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range st.Chunks {
		if !bytes.Equal(partial[c.Offset:c.Offset+c.Done], data[c.Offset:c.Offset+c.Done]) {
			t.Fatalf("chunk at %d claims %d bytes that are not on disk", c.Offset, c.Done)
		}
	}

	e.hub.ResetRequests()
	if err := e.c.Fetch(context.Background(), r, dst, FetchOptions{}); err != nil {
		t.Fatal(err)
	}
	assertFile(t, dst, data)
	wantRanges := []string{fmt.Sprintf("bytes=%d-%d", want, 512<<10-1), "bytes=524288-786431", "bytes=786432-1048575"}
	got := ranges(e.hub.Requests(hftest.CDN))
	slices.Sort(got) // parallel connections: any order
	if !slices.Equal(got, wantRanges) {
		t.Errorf("resume fetched %v, want only %v", got, wantRanges)
	}
}

// TestKill9Child is the process TestKill9ResumesFromPersistedState kills;
// run on its own it does nothing.
func TestKill9Child(t *testing.T) {
	v := os.Getenv(killChildEnv)
	if v == "" {
		return
	}
	var job killJob
	if err := json.Unmarshal([]byte(v), &job); err != nil {
		t.Fatal(err)
	}
	report := os.NewFile(3, "report")
	c := &Client{
		Endpoint:        job.Endpoint,
		Connections:     1,
		ChunkSize:       256 << 10,
		StallTimeout:    time.Hour, // the parent kills us first
		FreeSpace:       func(string) (uint64, error) { return 1 << 40, nil },
		checkpointEvery: time.Millisecond,
		onCheckpoint:    func(s *state) { fmt.Fprintln(report, s.frontier()) },
	}
	err := c.Fetch(context.Background(), job.Remote, job.Dst, FetchOptions{})
	t.Fatalf("child fetch returned (%v); it should have been killed", err)
}
