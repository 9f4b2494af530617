package main

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// TestBinaryRun drives the real binary: exit codes, stdout/stderr separation.
func TestBinaryRun(t *testing.T) {
	cmd := exec.Command(olmBin, "run", tinyModel, "Hello world", "-n", "12", "--temp", "0")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("olm run: %v: %s", err, stderr.String())
	}
	if len(out) == 0 || stderr.Len() != 0 {
		t.Fatalf("stdout %q, stderr %q", out, stderr.String())
	}

	cmd = exec.Command(olmBin, "run", "/nonexistent.gguf", "hi")
	msg, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.HasPrefix(string(msg), "olm: ") {
		t.Fatalf("missing model: err %v, output %q", err, msg)
	}
}

// TestBinaryInterrupt sends SIGINT mid-generation: the text so far stays, the exit is 130.
func TestBinaryInterrupt(t *testing.T) {
	// Greedy decoding of the tiny model never ends by itself; the context is large enough
	// that it is still generating when the signal arrives.
	cmd := exec.Command(olmBin, "run", tinyModel, "Hello", "--temp", "0", "--ctx", "100000", "--batch", "64")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(stdout)
	first, err := r.ReadByte() // wait until text is streaming
	if err != nil {
		t.Fatalf("no output before the signal: %v (%s)", err, stderr.String())
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	rest, _ := readAll(r)
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).ExitStatus() != 130 {
		t.Fatalf("exit after SIGINT: %v, want status 130; stderr %q", err, stderr.String())
	}
	if len(rest)+1 < 1 || first == 0 {
		t.Fatal("printed text was lost")
	}
	if !strings.Contains(stderr.String(), "interrupted") {
		t.Fatalf("stderr %q does not say it was interrupted", stderr.String())
	}
}

func readAll(r *bufio.Reader) ([]byte, error) {
	var b []byte
	for {
		c, err := r.ReadByte()
		if err != nil {
			return b, err
		}
		b = append(b, c)
	}
}
