package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// craft returns a copy of the tiny model with one field of a tensor info overwritten:
// field 0 is dims[0], 1 dims[1], 2 the type, 3 the offset (for 2-dimensional tensors).
func craft(t *testing.T, tensor string, field int, v uint64) []byte {
	t.Helper()
	b := bytes.Clone(tinyBytes(t))
	pat := binary.LittleEndian.AppendUint64(nil, uint64(len(tensor)))
	i := bytes.Index(b, append(pat, tensor...))
	if i < 0 {
		t.Fatalf("no tensor %q", tensor)
	}
	at := i + 8 + len(tensor) + 4 // past the name and n_dims
	switch field {
	case 0, 1:
		binary.LittleEndian.PutUint64(b[at+8*field:], v)
	case 2:
		binary.LittleEndian.PutUint32(b[at+16:], uint32(v))
	case 3:
		binary.LittleEndian.PutUint64(b[at+20:], v)
	}
	return b
}

func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Issue 14, items 2 and 4: show panicked on a huge dimension and said "fits in RAM yes" to
// files run rejects; import registered them. All three now refuse each one, in one line
// naming the file.
func TestShowAndImportRefuseWhatRunRefuses(t *testing.T) {
	fakeHub(t)
	noTensors := bytes.Clone(tinyBytes(t))
	binary.LittleEndian.PutUint64(noTensors[8:], 0)
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"dim-2p62.gguf", craft(t, "token_embd.weight", 0, 1<<62), "token_embd.weight"},
		{"zero-dim.gguf", craft(t, "token_embd.weight", 1, 0), "zero dimension"},
		{"offset-2p40.gguf", craft(t, "output.weight", 3, 1<<40), "offset 1099511627776"},
		{"unaligned.gguf", craft(t, "token_embd.weight", 3, 4), "not a multiple of the alignment"},
		{"no-tensors.gguf", noTensors, "no tensors"},
	}
	for _, c := range cases {
		p := writeFile(t, c.name, c.data)
		mustFail(t, []string{"show", p}, p, c.want)
		mustFail(t, []string{"import", p, "--name", "x"}, p, c.want)
		mustFail(t, []string{"run", p, "hi"}, p, c.want)
	}
	out, _ := mustRun(t, "", "list", "--json")
	if strings.Contains(out, `"source": "import"`) {
		t.Errorf("a refused file was imported:\n%s", out)
	}
}

// A file that passes the GGUF check but that llama.cpp refuses (an unknown architecture) is
// not registered either: import asks llama.cpp, without reading the weights.
func TestImportRefusesWhatLlamaCppRefuses(t *testing.T) {
	fakeHub(t)
	b := bytes.Clone(tinyBytes(t))
	at := bytes.Index(b, []byte("general.architecture")) + len("general.architecture") + 4 + 8
	copy(b[at:], "llamz")
	p := writeFile(t, "llamz.gguf", b)
	mustFail(t, []string{"import", p, "--name", "z"}, "unknown model architecture: 'llamz'")
	mustFail(t, []string{"show", p}, "unknown model architecture: 'llamz'")
	// A KV head count of 0 passes the GGUF check (it is a number) and fails llama.cpp's
	// shape check: show says so instead of "fits in RAM: yes".
	b = bytes.Clone(tinyBytes(t))
	key := "llama.attention.head_count_kv"
	at = bytes.Index(b, append(binary.LittleEndian.AppendUint64(nil, uint64(len(key))), key...)) + 8 + len(key)
	if at < 8+len(key) || binary.LittleEndian.Uint32(b[at:]) != 4 { // a u32
		t.Fatalf("no u32 %s in the test model", key)
	}
	binary.LittleEndian.PutUint32(b[at+4:], 0)
	p = writeFile(t, "kvheads0.gguf", b)
	for _, args := range [][]string{{"show", p}, {"import", p, "--name", "z"}, {"run", p, "hi"}} {
		mustFail(t, args, "does not hold what llama.cpp expects")
	}
	if out, _ := mustRun(t, "", "list", "--json"); strings.Contains(out, `"source": "import"`) {
		t.Errorf("a refused file was imported:\n%s", out)
	}
}

// A hostile repo serving the 2^62-dimension file must not crash show --remote.
func TestShowRemoteRefusesCraftedHeader(t *testing.T) {
	hub, _, _ := fakeHub(t)
	hub.Add("evil/tiny-GGUF", "evil.Q8_0.gguf", craft(t, "token_embd.weight", 0, 1<<62))
	mustFail(t, []string{"show", "--remote", "hf.co/evil/tiny-GGUF:evil.Q8_0.gguf"}, "evil.Q8_0.gguf", "token_embd.weight")
}

// Issue 14, item 3: a FIFO given as a model blocked olm in open(2).
func TestFIFOModelIsRefusedAtOnce(t *testing.T) {
	fakeHub(t)
	p := filepath.Join(t.TempDir(), "x.gguf")
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	for _, args := range [][]string{{"run", p, "hi"}, {"show", p}, {"import", p}} {
		// olm runs in a goroutine so that a hang fails the test instead of stalling it; the
		// checks stay on the test's goroutine.
		type result struct {
			errOut string
			code   int
		}
		done := make(chan result, 1)
		go func() { _, errOut, code := runOLM(t, "", args...); done <- result{errOut, code} }()
		select {
		case r := <-done:
			if r.code != 1 || !strings.Contains(r.errOut, p) || !strings.Contains(r.errOut, "FIFO") || strings.Count(strings.TrimSpace(r.errOut), "\n") != 0 {
				t.Errorf("olm %s: exit %d, %q; want one line naming the FIFO", strings.Join(args, " "), r.code, r.errOut)
			}
		case <-time.After(time.Minute):
			t.Fatalf("olm %s still blocked after a minute", strings.Join(args, " "))
		}
	}
}

func TestLocalPathProblemsAreNamed(t *testing.T) {
	fakeHub(t)
	dir := t.TempDir()
	t.Chdir(dir)
	loop := filepath.Join(dir, "loop.gguf")
	if err := os.Symlink(loop, loop); err != nil {
		t.Fatal(err)
	}
	mustFail(t, []string{"run", loop, "hi"}, "symlink loop")
	mustFail(t, []string{"show", "loop.gguf"}, "symlink loop")
	// An existing local directory wins over the Hugging Face repo "bad/adir".
	if err := os.MkdirAll(filepath.Join(dir, "bad", "adir"), 0o755); err != nil {
		t.Fatal(err)
	}
	mustFail(t, []string{"show", "bad/adir"}, "bad/adir", "is a directory")
	mustFail(t, []string{"run", "bad/adir", "hi"}, "bad/adir", "is a directory")
}

// blockedHelper is the child of TestSecondInterruptEndsOLM: olm's signal handling, then a
// call that blocks in the kernel and ignores the cancelled context (opening a FIFO nobody
// writes to). Only a second Ctrl-C can end it.
func blockedHelper(fifo string) {
	ctx, _, stop := withInterrupts(context.Background(), os.Stderr)
	defer stop()
	go func() {
		<-ctx.Done()
		fmt.Println("cancelled")
	}()
	fmt.Println("ready")
	f, err := os.Open(fifo)
	fmt.Println("open returned", err)
	f.Close()
	os.Exit(3)
}

const blockedHelperEnv = "OLM_TEST_BLOCKED_FIFO"

func TestSecondInterruptEndsOLM(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), blockedHelperEnv+"="+fifo)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	lines := bufio.NewScanner(out)
	expect := func(want string) {
		t.Helper()
		if !lines.Scan() || lines.Text() != want {
			cmd.Process.Kill()
			t.Fatalf("helper printed %q, want %q; stderr %q", lines.Text(), want, stderr.String())
		}
	}
	expect("ready") // the handlers are installed
	cmd.Process.Signal(os.Interrupt)
	expect("cancelled") // the first Ctrl-C cancelled the context; open(2) goes on blocking
	cmd.Process.Signal(os.Interrupt)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 130 {
			t.Fatalf("exit after the second Ctrl-C: %v, want status 130; stderr %q", err, stderr.String())
		}
		if !strings.Contains(stderr.String(), "olm: interrupted") {
			t.Errorf("stderr %q does not say it was interrupted", stderr.String())
		}
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		t.Fatal("olm still running a minute after the second Ctrl-C")
	}
}

// Chat's per-answer handler: one Ctrl-C per answer is the normal way to stop it, so only a
// second Ctrl-C to the same answer exits.
func TestSecondInterruptCountsPerHandler(t *testing.T) {
	in := &interrupts{}
	in.Push(func() {})
	stops := 0
	pop := in.Push(func() { stops++ })
	if !in.fire() || stops != 1 {
		t.Fatal("first Ctrl-C of an answer did not stop it")
	}
	pop()
	in.Push(func() { stops++ }) // the next answer
	if !in.fire() || stops != 2 {
		t.Fatal("a Ctrl-C in the next answer was taken as a second one")
	}
	if in.fire() {
		t.Fatal("a second Ctrl-C in the same answer did not ask to exit")
	}
}

// SIGTERM cancels once; a second one, or a Ctrl-C after it, exits.
func TestSecondTerminateExits(t *testing.T) {
	in := &interrupts{}
	cancels := 0
	in.Push(func() { cancels++ })
	if !in.terminate(func() { cancels++ }) || cancels != 1 {
		t.Fatal("the first SIGTERM did not cancel")
	}
	if in.terminate(func() { cancels++ }) || in.fire() || cancels != 1 {
		t.Fatal("a signal after SIGTERM did not ask to exit")
	}
}
