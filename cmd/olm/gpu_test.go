package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// GPU backends load once per process, so these tests drive the binary with
// OLM_LIBRARY_PATH pointing at libraries the test builds or plants.

// fakeGPUDir builds testdata/fakegpu into a backend directory laid out as
// `make cuda` leaves lib/olm: libggml-cuda.so beside the libggml-base.so it links.
func fakeGPUDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cc := os.Getenv("CC")
	if cc == "" {
		cc = "gcc"
	}
	ggml := filepath.Join("..", "..", "third_party", "ollama", "ml", "backend", "ggml", "ggml")
	for _, args := range [][]string{
		{"-shared", "-fPIC", "-o", filepath.Join(dir, "libggml-base.so"), "-Wl,-soname,libggml-base.so", "testdata/fakegpu/fakebase.c"},
		{"-shared", "-fPIC", "-I" + filepath.Join(ggml, "include"), "-I" + filepath.Join(ggml, "src"),
			"-o", filepath.Join(dir, "libggml-cuda.so"), "testdata/fakegpu/fakegpu.c", "-L" + dir, "-lggml-base", "-Wl,-rpath,$ORIGIN"},
	} {
		if out, err := exec.Command(cc, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", cc, args, err, out)
		}
	}
	return dir
}

// runBin runs olm with OLM_LIBRARY_PATH=libs and returns stdout, stderr and the exit code.
func runBin(t *testing.T, libs string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(olmBin, args...)
	cmd.Env = append(os.Environ(), "OLM_LIBRARY_PATH="+libs, "OLM_HOME="+t.TempDir())
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func TestGPUBackendIsLoadedListedAndQuiet(t *testing.T) {
	libs := fakeGPUDir(t)
	out, errOut, code := runBin(t, libs, "--version")
	if code != 0 || !strings.Contains(out, "GPU: olm test GPU (FAKE0, 8.0 GiB)") {
		t.Fatalf("exit %d, stdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	// The backend's own ggml-base logs to stderr unless olm routes it: silent by default...
	if errOut != "" {
		t.Errorf("stderr without --verbose: %q", errOut)
	}
	// olm show says how much of a model the GPU takes.
	out, errOut, code = runBin(t, libs, "show", tinyModel)
	if code != 0 || !strings.Contains(out, "fits on GPU") || !strings.Contains(out, "layers on olm test GPU (6.0 GiB free)") {
		t.Errorf("show with a GPU: exit %d, stdout:\n%s\nstderr: %s", code, out, errOut)
	}
	// ...and shown with --verbose.
	_, errOut, _ = runBin(t, libs, "--version", "--verbose")
	if !strings.Contains(errOut, "fake_gpu_init: found 1 fake GPU") {
		t.Errorf("--verbose lacks the backend's log:\n%s", errOut)
	}
}

func TestNoGPUSaysWhy(t *testing.T) {
	out, _, code := runBin(t, "", "--version")
	if code != 0 || !strings.Contains(out, "GPU: none") {
		t.Fatalf("exit %d: %s", code, out)
	}
	if out, _, _ := runBin(t, "", "show", tinyModel); !strings.Contains(out, "fits in RAM") || strings.Contains(out, "fits on GPU") {
		t.Errorf("show without a GPU:\n%s", out)
	}

	// run and chat still answer, on the CPU, and say why --gpu-layers did nothing.
	out, errOut, code := runBin(t, "", "run", tinyModel, "Hello", "-n", "4", "--temp", "0", "--gpu-layers", "99")
	if code != 0 || out == "" || !strings.Contains(errOut, "--gpu-layers is ignored") || !strings.Contains(errOut, "make cuda") {
		t.Errorf("no GPU backend: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	// The default offloads what fits and so warns about nothing.
	_, errOut, code = runBin(t, "", "run", tinyModel, "Hello", "-n", "4", "--temp", "0")
	if code != 0 || errOut != "" {
		t.Errorf("default --gpu-layers on a CPU machine: exit %d, stderr %q", code, errOut)
	}

	// A library that is not one: named with the reason, never a crash.
	junk := t.TempDir()
	if err := os.WriteFile(filepath.Join(junk, "libggml-cuda.so"), []byte("not a library"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, _, _ := runBin(t, junk, "--version"); !strings.Contains(out, "GPU: none: the GPU backend did not load") {
		t.Errorf("--version with a junk backend:\n%s", out)
	}
	out, errOut, code = runBin(t, junk, "run", tinyModel, "Hello", "-n", "4", "--temp", "0", "--gpu-layers", "99")
	if code != 0 || out == "" || !strings.Contains(errOut, "did not load") || !strings.Contains(errOut, "libggml-cuda.so") {
		t.Errorf("junk backend: exit %d, stdout %q, stderr %q", code, out, errOut)
	}

	// bench refuses rows that would claim an offload that never happened.
	out, errOut, code = runBin(t, "", "bench", tinyModel, "--gpu-layers", "0,99", "-p", "8", "-n", "4", "-r", "1")
	if code != 1 || out != "" || !strings.Contains(errOut, "--gpu-layers 0,99: nothing to offload to") {
		t.Errorf("bench --gpu-layers on a CPU machine: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	// Its default is 0 without a GPU, as the rows say.
	out, errOut, code = runBin(t, "", "bench", tinyModel, "-p", "8", "-n", "4", "-r", "1", "-o", "jsonl")
	if code != 0 || !strings.Contains(out, `"n_gpu_layers":0`) || !strings.Contains(out, `"backends":"CPU"`) {
		t.Errorf("bench default: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}
