package runner

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
)

// ggml's threads spin at barriers, so a thread whose core is taken by another process
// stalls every token: on 2 cores with one kept busy elsewhere, 2 threads generate at about
// half the speed of 1 (../shared/anchors.md). CPULoad measures how many cores other
// processes keep busy, so the default thread count can leave them alone.

// CPUSample is a reading of the machine's and this process's CPU time.
type CPUSample struct {
	Busy, Total uint64 // jiffies over all CPUs: not idle, and all
	Self        uint64 // jiffies this process used (user + system)
	CPUs        int
	At          time.Time
}

// SampleCPU reads /proc/stat and /proc/self/stat.
func SampleCPU() (CPUSample, error) {
	s := CPUSample{At: time.Now()}
	stat, err := os.ReadFile("/proc/stat")
	if err != nil {
		return s, err
	}
	for _, line := range strings.Split(string(stat), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) > 4 && f[0] == "cpu":
			for i, v := range f[1:] {
				n, _ := strconv.ParseUint(v, 10, 64)
				if i < 8 { // user nice system idle iowait irq softirq steal; guest is counted in user
					s.Total += n
				}
				if i != 3 && i != 4 && i < 8 {
					s.Busy += n
				}
			}
		case len(f) > 0 && strings.HasPrefix(f[0], "cpu"):
			s.CPUs++
		}
	}
	self, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return s, err
	}
	// Fields after the command name (which may hold spaces) start at ")": utime and stime
	// are the 14th and 15th fields of the line.
	rest := strings.Fields(string(self[strings.LastIndexByte(string(self), ')')+1:]))
	if len(rest) > 12 {
		u, _ := strconv.ParseUint(rest[11], 10, 64)
		st, _ := strconv.ParseUint(rest[12], 10, 64)
		s.Self = u + st
	}
	return s, nil
}

// BusyCores is how many cores' worth of CPU other processes used between a and b.
func BusyCores(a, b CPUSample) float64 {
	if b.Total <= a.Total || b.CPUs == 0 {
		return 0
	}
	perCPU := float64(b.Total-a.Total) / float64(b.CPUs) // jiffies of wall time
	others := float64(b.Busy-a.Busy) - float64(b.Self-a.Self)
	return math.Max(0, others/perCPU)
}

// ThreadsForLoad picks the generation threads for a machine with cores physical cores of
// which busy are taken by other processes: one per free core, at least one. A core counts
// as taken from 0.75 busy on, so that brief kernel work during a load does not halve the
// threads of an idle machine.
func ThreadsForLoad(cores int, busy float64) int {
	return max(1, cores-int(busy+0.25))
}

// MinLoadWindow is the shortest interval over which BusyCores means something.
const MinLoadWindow = 200 * time.Millisecond

// DescribeLoad says why fewer threads than cores were chosen.
func DescribeLoad(threads, cores int, busy float64) string {
	return fmt.Sprintf("using %d of %d cores: other processes keep %.1f busy (--threads to override)", threads, cores, busy)
}

// LoadWatch chooses a thread count from what other processes used while a model loaded:
// Start before the load, Threads after it. The samples come through sample (SampleCPU on
// a real machine; tests play a busy one).
type LoadWatch struct {
	sample func() (CPUSample, error)
	cores  int
	start  CPUSample
}

// WatchLoad takes the first sample. nil sample means SampleCPU; cores <= 0, PhysicalCores.
func WatchLoad(sample func() (CPUSample, error), cores int) *LoadWatch {
	if sample == nil {
		sample = SampleCPU
	}
	if cores <= 0 {
		cores = PhysicalCores()
	}
	w := &LoadWatch{sample: sample, cores: cores}
	w.start, _ = sample()
	return w
}

// Threads gives each core that other processes left free one thread; a load too short to
// judge keeps all cores. note says why when it chose fewer than all ("" otherwise).
func (w *LoadWatch) Threads() (threads int, note string) {
	now, err := w.sample()
	if err != nil || w.start.At.IsZero() || now.At.Sub(w.start.At) < MinLoadWindow {
		return w.cores, ""
	}
	busy := BusyCores(w.start, now)
	threads = ThreadsForLoad(w.cores, busy)
	if threads < w.cores {
		note = DescribeLoad(threads, w.cores, busy)
	}
	return threads, note
}
