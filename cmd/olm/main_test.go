package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/olm-dev/olm/synth"
)

var (
	tinyModel string // a tiny random-weight llama model
	olmBin    string // the olm binary, built once for end-to-end tests
)

func TestMain(m *testing.M) {
	if fifo := os.Getenv(blockedHelperEnv); fifo != "" {
		blockedHelper(fifo) // a child process of TestSecondInterruptEndsOLM
	}
	dir, err := os.MkdirTemp("", "olm-cmd-test")
	if err != nil {
		panic(err)
	}
	tinyModel = filepath.Join(dir, "tiny.gguf")
	spec, err := synth.Tiny("llama")
	if err != nil {
		panic(err)
	}
	if err := synth.Write(context.Background(), tinyModel, spec, nil); err != nil {
		panic(err)
	}
	// Same environment as this test binary, so the cgo build of llama.cpp comes from cache.
	olmBin = filepath.Join(dir, "olm")
	if out, err := exec.Command("go", "build", "-o", olmBin, ".").CombinedOutput(); err != nil {
		panic("build olm: " + err.Error() + "\n" + string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runOLM runs the command line in process with buffers for stdio.
func runOLM(t testing.TB, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	ios := &ioStreams{In: strings.NewReader(stdin), Out: &out, Err: &errb}
	code = execute(context.Background(), ios, args)
	return out.String(), errb.String(), code
}

func TestVersion(t *testing.T) {
	out, _, code := runOLM(t, "", "--version")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"olm ", "llama.cpp ec98e2002", "ollama v0.17.4", "CPU features:"} {
		if !strings.Contains(out, want) {
			t.Errorf("--version lacks %q:\n%s", want, out)
		}
	}
}

func TestRunGreedyPrintsOnlyModelText(t *testing.T) {
	out1, errOut, code := runOLM(t, "", "run", tinyModel, "Hello world", "-n", "16", "--temp", "0")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if out1 == "" {
		t.Fatal("no text generated")
	}
	if errOut != "" {
		t.Fatalf("stderr is not silent without --verbose: %q", errOut)
	}
	out2, _, _ := runOLM(t, "Hello world", "run", tinyModel, "-n", "16", "--temp", "0")
	if out1 != out2 {
		t.Fatalf("prompt from stdin gave %q, from the argument %q", out2, out1)
	}
}

func TestRunVerboseStats(t *testing.T) {
	_, errOut, code := runOLM(t, "", "run", tinyModel, "Hello", "-n", "8", "--verbose", "--seed", "1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"prompt:", "generation: 8 tokens", "llama_decode", "time to first token"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("--verbose output lacks %q", want)
		}
	}
}

func TestRunBadInput(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(text, []byte("hello\n"), 0o644)
	cases := []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"missing file", "", []string{"run", filepath.Join(dir, "nope.gguf"), "hi"}, "no such file"},
		{"directory", "", []string{"run", dir, "hi"}, "is a directory"},
		{"text file", "", []string{"run", text, "hi"}, "not a GGUF file"},
		{"ctx 0", "", []string{"run", tinyModel, "hi", "--ctx", "0"}, "--ctx 0"},
		{"negative ctx", "", []string{"run", tinyModel, "hi", "--ctx", "-4"}, "--ctx -4"},
		{"negative max tokens", "", []string{"run", tinyModel, "hi", "-n", "-5"}, "--max-tokens -5"},
		{"negative batch", "", []string{"run", tinyModel, "hi", "--batch", "-1"}, "--batch -1"},
		{"threads 1000", "", []string{"run", tinyModel, "hi", "--threads", "1000"}, "--threads 1000"},
		{"negative threads", "", []string{"run", tinyModel, "hi", "-t", "-2"}, "--threads -2"},
		{"negative temp", "", []string{"run", tinyModel, "hi", "--temp", "-1"}, "--temp -1"},
		{"top-p 0", "", []string{"run", tinyModel, "hi", "--top-p", "0"}, "--top-p 0"},
		{"empty prompt", "", []string{"run", tinyModel, ""}, "empty prompt"},
		{"blank stdin", "  \n", []string{"run", tinyModel}, "empty prompt"},
		{"not a number", "", []string{"run", tinyModel, "hi", "-n", "lots"}, "invalid argument"},
		{"no model", "", []string{"run"}, "run needs MODEL [PROMPT]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runOLM(t, tc.stdin, tc.args...)
			if code == 0 {
				t.Fatalf("exit 0, want failure")
			}
			if out != "" {
				t.Errorf("stdout not empty: %q", out)
			}
			if !strings.Contains(errOut, tc.want) {
				t.Errorf("stderr %q does not mention %q", errOut, tc.want)
			}
			if n := strings.Count(strings.TrimSpace(errOut), "\n"); n != 0 {
				t.Errorf("error is %d lines, want one: %q", n+1, errOut)
			}
		})
	}
}

func TestRunContextFullSaysSo(t *testing.T) {
	out, errOut, code := runOLM(t, "", "run", tinyModel, "Hello", "--ctx", "32", "--temp", "0")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if out == "" || !strings.Contains(errOut, "context is full") {
		t.Fatalf("stdout %q, stderr %q", out, errOut)
	}
}

func TestMissingArgumentsSayWhatToType(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"pull"}, "pull needs MODEL, e.g. `olm pull mistral`"},
		{[]string{"run"}, "run needs MODEL [PROMPT], e.g. `olm run "},
		{[]string{"run", "m", "two", "words"}, "run takes MODEL [PROMPT], got 3 arguments: quote text that has spaces"},
		{[]string{"list", "x"}, `list takes no arguments, got ["x"]`},
	} {
		_, errOut, code := runOLM(t, "", c.args...)
		if code != 1 || !strings.Contains(errOut, c.want) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("olm %v: exit %d, stderr %q, want one line with %q", c.args, code, errOut, c.want)
		}
	}
}
