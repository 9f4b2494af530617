package benchout

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/olm-dev/olm/runner"
)

func markdown(t *testing.T, rows []runner.BenchRow, opt Options) (info string, table []string, rest string) {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteWith(&buf, "", rows, opt); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	info, body, ok := strings.Cut(out, "\n\n")
	if !ok {
		t.Fatalf("no blank line after the info line:\n%s", out)
	}
	body, rest, _ = strings.Cut(body, "\n\n")
	return info, strings.Split(strings.TrimSuffix(body, "\n"), "\n"), rest
}

func cells(line string) []string {
	parts := strings.Split(strings.Trim(line, "|"), "|")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

func TestMarkdownTable(t *testing.T) {
	rows := sampleRows()
	info, table, rest := markdown(t, rows, Options{})
	for _, want := range []string{
		`CPU: AMD EPYC 7B13 64-Core "Processor" (16 cores, 4,8 threads used)`, "AVX2 F16C FMA",
		"RAM 64.0 GiB", "linux/amd64 6.8.0", "olm 0.1.0", "llama.cpp a1b2c3d (6543)", "flags: -O3 -march=native",
	} {
		if !strings.Contains(info, want) {
			t.Errorf("info line lacks %q: %s", want, info)
		}
	}
	if strings.Contains(info, "GPU") {
		t.Errorf("info line mentions a GPU the rows lack: %s", info)
	}
	head := cells(table[0])
	wantHead := []string{"model", "size", "params", "backend", "threads", "test", "t/s", "load (ms)", "ttft (ms)", "peak rss"}
	if strings.Join(head, ",") != strings.Join(wantHead, ",") {
		t.Errorf("columns %q, want %q (constant sweep parameters hidden)", head, wantHead)
	}
	if len(table) != 2+len(rows) {
		t.Fatalf("%d table lines, want %d", len(table), 2+len(rows))
	}
	width := utf8.RuneCountInString(table[0])
	for i, l := range table {
		if utf8.RuneCountInString(l) != width {
			t.Errorf("line %d is %d wide, want %d (columns misaligned):\n%s", i, utf8.RuneCountInString(l), width, strings.Join(table, "\n"))
		}
	}
	if r := cells(table[1]); strings.Trim(r[0], "-") != "" || !strings.HasSuffix(r[6], ":") {
		t.Errorf("alignment rule %q: strings left, numbers right", table[1])
	}
	pp := cells(table[2])
	want := []string{"llama 1B Q4_0", "606.54 MiB", "1.10 B", "CPU", "4", "pp512", "381.53 ± 1.26", "123.5", "13.4", "800.00 MiB"}
	if strings.Join(pp, "|") != strings.Join(want, "|") {
		t.Errorf("pp row %q, want %q", pp, want)
	}
	if tg := cells(table[3]); tg[5] != "tg128" || tg[8] != "" {
		t.Errorf("tg row %q: want test tg128 and a blank ttft", tg)
	}
	if rest != "" {
		t.Errorf("unexpected text after the table: %q", rest)
	}
}

func TestMarkdownShowsVaryingParameters(t *testing.T) {
	rows := sampleRows()[:2]
	rows[1].NBatch, rows[1].FlashAttn, rows[1].TypeK = 512, true, "q8_0"
	_, table, _ := markdown(t, rows, Options{})
	head := strings.Join(cells(table[0]), ",")
	if !strings.Contains(head, "threads,n_batch,type_k,fa,test") {
		t.Errorf("header %s: want the varying n_batch, type_k, fa and not n_ubatch/type_v", head)
	}
	if r := cells(table[3]); r[5] != "512" || r[6] != "q8_0" || r[7] != "1" {
		t.Errorf("row %q", r)
	}
}

func TestMarkdownGPUAndSynthetic(t *testing.T) {
	rows := sampleRows()[:1]
	rows[0].Backends, rows[0].GPUInfo, rows[0].NGPULayers = "CUDA", "NVIDIA H100", 99
	rows[0].Synthetic = true
	rows[0].LoadMs, rows[0].TTFTMs, rows[0].PeakRSS = 0, 0, 0
	info, table, rest := markdown(t, rows, Options{})
	if !strings.Contains(info, "GPU: NVIDIA H100") {
		t.Errorf("info %s lacks the GPU", info)
	}
	head := strings.Join(cells(table[0]), ",")
	if head != "model,size,params,backend,ngl,threads,test,t/s" {
		t.Errorf("header %s: want ngl on a GPU backend and no empty measurement columns", head)
	}
	if r := cells(table[2]); r[0] != "llama 1B Q4_0 *" || r[4] != "99" {
		t.Errorf("row %q", r)
	}
	if !strings.HasPrefix(rest, "* synthetic model") {
		t.Errorf("no synthetic note after the table, got %q", rest)
	}
}

func TestMarkdownBaselineColumn(t *testing.T) {
	rows := sampleRows()[:3]
	base := sampleRows()[:2] // no pp512+tg128 in the baseline
	base[0].AvgTs = rows[0].AvgTs / 2
	_, table, _ := markdown(t, rows, Options{Baseline: base})
	var got []string
	for _, l := range table[2:] {
		c := cells(l)
		got = append(got, c[len(c)-1])
	}
	if strings.Join(got, ",") != "2.00x,1.00x,no base" {
		t.Errorf("vs base cells %q", got)
	}
	if c := cells(table[0]); c[len(c)-1] != "vs base" {
		t.Errorf("header %q lacks vs base", c)
	}
}

func TestMarkdownSeveralMachines(t *testing.T) {
	rows := sampleRows()[:2]
	rows[1].CPUInfo = "Apple M2"
	info, _, _ := markdown(t, rows, Options{})
	lines := strings.Split(info, "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], "Apple M2") {
		t.Errorf("want one info line per machine, got:\n%s", info)
	}
}
