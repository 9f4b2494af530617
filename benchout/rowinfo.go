package benchout

import (
	"fmt"
	"strings"

	"github.com/olm-dev/olm/runner"
)

// testName is the row's test label. Rows read from llama-bench lack olm's
// "test" field, so it is rebuilt from the token counts the way llama-bench
// names tests: pp512, tg128, pp512+tg128, with " @ d N" for a non-zero depth.
func testName(r runner.BenchRow) string {
	if r.Test != "" {
		return r.Test
	}
	var s string
	switch {
	case r.NPrompt > 0 && r.NGen == 0:
		s = fmt.Sprintf("pp%d", r.NPrompt)
	case r.NGen > 0 && r.NPrompt == 0:
		s = fmt.Sprintf("tg%d", r.NGen)
	default:
		s = fmt.Sprintf("pp%d+tg%d", r.NPrompt, r.NGen)
	}
	if r.NDepth > 0 {
		s += fmt.Sprintf(" @ d%d", r.NDepth)
	}
	return s
}

// formatSize shows bytes as llama-bench does: MiB below one GiB, GiB above.
func formatSize(b uint64) string {
	if b < 1<<30 {
		return fmt.Sprintf("%.2f MiB", float64(b)/(1<<20))
	}
	return fmt.Sprintf("%.2f GiB", float64(b)/(1<<30))
}

// formatParams shows a parameter count as llama-bench does: M below 1e9, B above.
func formatParams(n uint64) string {
	if n < 1e9 {
		return fmt.Sprintf("%.2f M", float64(n)/1e6)
	}
	return fmt.Sprintf("%.2f B", float64(n)/1e9)
}

func boolDigit(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// isCPUBackend mirrors llama-bench's rule for hiding the GPU layer count.
func isCPUBackend(b string) bool {
	return b == "" || strings.Contains(b, "CPU") || strings.Contains(b, "BLAS")
}

// machineInfo is one line describing the machine and build a row ran on.
// threads lists the thread counts used on that machine, as "cores used".
func machineInfo(r runner.BenchRow, threads string) string {
	var parts []string
	cpu := r.CPUInfo
	if cpu == "" {
		cpu = "unknown CPU"
	}
	detail := []string{}
	if r.CPUCores > 0 {
		detail = append(detail, fmt.Sprintf("%d cores", r.CPUCores))
	}
	if threads != "" {
		detail = append(detail, threads+" threads used")
	}
	if len(detail) > 0 {
		cpu += " (" + strings.Join(detail, ", ") + ")"
	}
	parts = append(parts, "CPU: "+cpu)
	if r.CPUFeatures != "" {
		parts = append(parts, r.CPUFeatures)
	}
	if r.RAMBytes > 0 {
		parts = append(parts, fmt.Sprintf("RAM %.1f GiB", float64(r.RAMBytes)/(1<<30)))
	}
	if r.OS != "" {
		parts = append(parts, r.OS)
	}
	if r.GPUInfo != "" {
		parts = append(parts, "GPU: "+r.GPUInfo)
	}
	if r.OlmVersion != "" {
		parts = append(parts, "olm "+r.OlmVersion)
	}
	if r.BuildCommit != "" || r.BuildNumber != 0 {
		parts = append(parts, fmt.Sprintf("llama.cpp %s (%d)", r.BuildCommit, r.BuildNumber))
	}
	if r.BuildFlags != "" {
		parts = append(parts, "flags: "+r.BuildFlags)
	}
	return strings.Join(parts, " | ")
}
