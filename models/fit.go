package models

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Fit answers "will it fit in this machine's RAM?".
type Fit struct {
	Need   Memory
	RAM    int64 // MemTotal
	Fits   bool
	Reason string // one line for the user
}

// CheckFit compares an estimate for ctx tokens with the RAM in meminfo (a
// /proc/meminfo-format file, so tests can pass their own).
func CheckFit(info Info, ctx int, meminfo string) (Fit, error) {
	ram, err := TotalRAM(meminfo)
	if err != nil {
		return Fit{}, err
	}
	need := info.Memory(ctx)
	f := Fit{Need: need, RAM: ram, Fits: need.Total <= ram}
	if f.Fits {
		f.Reason = fmt.Sprintf("needs about %s (weights %s + KV cache %s at %d tokens) of %s RAM",
			gib(need.Total), gib(need.Weights), gib(need.KVCache), need.Context, gib(ram))
	} else {
		f.Reason = fmt.Sprintf("needs about %s (weights %s + KV cache %s at %d tokens) but this machine has %s RAM: pick a smaller quant or a shorter context",
			gib(need.Total), gib(need.Weights), gib(need.KVCache), need.Context, gib(ram))
	}
	return f, nil
}

// TotalRAM reads MemTotal (in kB) from a meminfo file.
func TotalRAM(meminfo string) (int64, error) {
	f, err := os.Open(meminfo)
	if err != nil {
		return 0, fmt.Errorf("read total RAM: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("read total RAM from %s: %w", meminfo, err)
		}
		return kb * 1024, nil
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("read total RAM: %w", err)
	}
	return 0, fmt.Errorf("read total RAM: no MemTotal line in %s", meminfo)
}

func gib(b int64) string { return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30)) }
