package runner

import (
	"bufio"
	"os"
	"runtime"
	"strings"
	"syscall"
)

// Machine describes where a benchmark ran, for every result row.
type Machine struct {
	CPU      string
	Cores    int
	Features string
	RAM      uint64
	OS       string
}

// DescribeMachine reads the CPU model, cores, SIMD features, RAM and OS.
func DescribeMachine() Machine {
	m := Machine{CPU: cpuModel(), Cores: PhysicalCores(), Features: strings.Join(CPUFeatures(), " "), OS: runtime.GOOS + "/" + runtime.GOARCH}
	var u syscall.Utsname
	if syscall.Uname(&u) == nil {
		m.OS += " " + utsString(u.Release[:])
	}
	m.RAM = totalRAM()
	return m
}

// totalRAM is the machine's RAM in bytes, 0 when unknown.
func totalRAM() uint64 {
	var si syscall.Sysinfo_t
	if syscall.Sysinfo(&si) != nil {
		return 0
	}
	return uint64(si.Totalram) * uint64(si.Unit)
}

func (m Machine) fill(r *BenchRow) {
	r.CPUInfo, r.CPUCores, r.CPUFeatures, r.RAMBytes, r.OS = m.CPU, m.Cores, m.Features, m.RAM, m.OS
	r.OlmVersion, r.BuildFlags = Version, BuildFlags
}

// Version is olm's version, set by the Makefile (-ldflags -X) from git describe.
var Version = "dev"

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func utsString(b []int8) string {
	var s strings.Builder
	for _, c := range b {
		if c == 0 {
			break
		}
		s.WriteByte(byte(c))
	}
	return s.String()
}
