package models

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/olm-dev/olm/download"
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
	hb := download.HumanBytes
	f.Reason = fmt.Sprintf("needs about %s (weights %s + KV cache %s at %d tokens + compute %s)", hb(need.Total), hb(need.Weights), hb(need.KVCache), need.Context, hb(need.Compute))
	if f.Fits {
		f.Reason += fmt.Sprintf(" of %s RAM", hb(ram))
	} else {
		f.Reason += fmt.Sprintf(" but this machine has %s RAM: pick a smaller quant or a shorter context", hb(ram))
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

// GPULayersThatFit estimates how many of a model's layers fit in free bytes of GPU memory
// beside the compute buffer and the 1 GiB that olm's fit leaves free: the weights and KV
// cache spread evenly over the repeating layers and the output layer. It returns
// NLayer+1 when everything fits.
func GPULayersThatFit(info Info, need Memory, free int64) int {
	layers := info.NLayer + 1
	avail := free - need.Compute - 1<<30
	if avail <= 0 || info.NLayer <= 0 {
		return 0
	}
	perLayer := (need.Weights + need.KVCache) / int64(layers)
	if perLayer <= 0 {
		return layers
	}
	return int(min(avail/perLayer, int64(layers)))
}
