package runner

import (
	"testing"
	"time"
)

func TestBusyCoresSubtractsThisProcess(t *testing.T) {
	a := CPUSample{Busy: 1000, Total: 4000, Self: 100, CPUs: 2}
	// 100 jiffies of wall time on 2 CPUs: 200 in total, 150 of them busy, 50 ours.
	b := CPUSample{Busy: 1150, Total: 4200, Self: 150, CPUs: 2}
	if got := BusyCores(a, b); got != 1 {
		t.Fatalf("BusyCores = %v, want 1 (150 busy - 50 ours over 100 per CPU)", got)
	}
	if got := BusyCores(b, a); got != 0 {
		t.Fatalf("a clock going backwards gave %v", got)
	}
}

func TestThreadsForLoad(t *testing.T) {
	for _, c := range []struct {
		cores int
		busy  float64
		want  int
	}{{2, 0, 2}, {2, 0.6, 2}, {2, 0.8, 1}, {2, 2, 1}, {8, 2.6, 6}, {8, 2.8, 5}} {
		if got := ThreadsForLoad(c.cores, c.busy); got != c.want {
			t.Errorf("ThreadsForLoad(%d, %v) = %d, want %d", c.cores, c.busy, got, c.want)
		}
	}
}

func TestSampleCPUReadsThisMachine(t *testing.T) {
	a, err := SampleCPU()
	if err != nil {
		t.Fatal(err)
	}
	// Burn CPU in this process until the kernel has counted it (jiffies are 10 ms): the
	// process's own time must show, or BusyCores would blame others for it.
	counted := false
	for i := 0; i < 100 && !counted; i++ {
		deadline := time.Now().Add(20 * time.Millisecond)
		for time.Now().Before(deadline) {
		}
		b, err := SampleCPU()
		if err != nil {
			t.Fatal(err)
		}
		counted = b.Self > a.Self
	}
	if !counted {
		t.Fatal("2 s of CPU burnt in this process never showed in /proc/self/stat")
	}
	if a.CPUs < 1 || a.Total == 0 || a.Busy > a.Total {
		t.Fatalf("implausible sample %+v", a)
	}
}
