package runner

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// PhysicalCores counts distinct (package, core) pairs in sysfs; hyperthread siblings share
// one core's SIMD units, and ggml runs best with one thread per physical core.
func PhysicalCores() int {
	dirs, _ := filepath.Glob("/sys/devices/system/cpu/cpu[0-9]*/topology")
	seen := map[string]bool{}
	for _, d := range dirs {
		pkg, err1 := os.ReadFile(filepath.Join(d, "physical_package_id"))
		core, err2 := os.ReadFile(filepath.Join(d, "core_id"))
		if err1 != nil || err2 != nil {
			continue
		}
		seen[strings.TrimSpace(string(pkg))+"/"+strings.TrimSpace(string(core))] = true
	}
	n := len(seen)
	if n == 0 || n > runtime.NumCPU() {
		n = runtime.NumCPU() // containers may show more cores than they may use
	}
	return n
}
