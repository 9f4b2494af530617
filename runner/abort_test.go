package runner

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

const failAssertEnv = "OLM_TEST_FAIL_ASSERT"

// A GGML_ASSERT that no check foresaw ends olm with one line that says what to do and exit
// status 1, not SIGABRT and a page of backtrace. The assert fails in a child process.
func TestFailedAssertIsOneLine(t *testing.T) {
	if os.Getenv(failAssertEnv) != "" {
		failAssert()
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestFailedAssertIsOneLine$")
	cmd.Env = append(os.Environ(), failAssertEnv+"=1", "OLM_GGML_BACKTRACE=")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 1 {
		t.Fatalf("child: %v, want exit status 1; stderr %q", err, stderr.String())
	}
	msg := strings.TrimSpace(stderr.String())
	if strings.Count(msg, "\n") != 0 || !strings.HasPrefix(msg, "olm: llama.cpp stopped on a failed internal check (") ||
		!strings.Contains(msg, "GGML_ASSERT(0 && \"olm test\") failed") || !strings.Contains(msg, "try another GGUF build") {
		t.Fatalf("stderr %q", msg)
	}
}
