package benchout

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/olm-dev/olm/runner"
)

// mdColumn is one markdown table column.
type mdColumn struct {
	header string
	right  bool // numbers align right, as in llama-bench
	cell   func(i int) string
}

const syntheticNote = "* synthetic model: random weights with the real model's tensor shapes and types; " +
	"speeds predict the real model's, its text output is meaningless."

// writeMarkdown prints one info line per distinct machine/build, then a table
// like llama-bench's, then a note when any model is synthetic. cmp, when
// non-nil, holds one comparison per row and adds a "vs base" column.
func writeMarkdown(w io.Writer, rows []runner.BenchRow, cmp []Comparison) error {
	bw := bufio.NewWriter(w)
	for _, line := range infoLines(rows) {
		bw.WriteString(line + "\n")
	}
	if len(rows) > 0 {
		bw.WriteString("\n")
	}
	cols := mdColumns(rows, cmp)
	widths := make([]int, len(cols))
	cells := make([][]string, len(rows))
	for j, c := range cols {
		widths[j] = max(utf8.RuneCountInString(c.header), 3)
	}
	for i := range rows {
		cells[i] = make([]string, len(cols))
		for j, c := range cols {
			cells[i][j] = c.cell(i)
			widths[j] = max(widths[j], utf8.RuneCountInString(cells[i][j]))
		}
	}
	headers := make([]string, len(cols))
	rules := make([]string, len(cols))
	for j, c := range cols {
		headers[j] = pad(c.header, widths[j], c.right)
		if c.right {
			rules[j] = strings.Repeat("-", widths[j]-1) + ":"
		} else {
			rules[j] = strings.Repeat("-", widths[j])
		}
	}
	writeMDRow(bw, headers)
	writeMDRow(bw, rules)
	for i := range rows {
		line := make([]string, len(cols))
		for j, c := range cols {
			line[j] = pad(cells[i][j], widths[j], c.right)
		}
		writeMDRow(bw, line)
	}
	if slices.ContainsFunc(rows, func(r runner.BenchRow) bool { return r.Synthetic }) {
		bw.WriteString("\n" + syntheticNote + "\n")
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write markdown: %w", err)
	}
	return nil
}

func writeMDRow(bw *bufio.Writer, cells []string) {
	bw.WriteString("| " + strings.Join(cells, " | ") + " |\n")
}

func pad(s string, width int, right bool) string {
	n := width - utf8.RuneCountInString(s)
	if n <= 0 {
		return s
	}
	if right {
		return strings.Repeat(" ", n) + s
	}
	return s + strings.Repeat(" ", n)
}

// mdColumns picks the columns: the fixed llama-bench ones, each swept
// parameter that actually varies across rows, and olm's measurements where
// any row has them.
func mdColumns(rows []runner.BenchRow, cmp []Comparison) []mdColumn {
	r := func(i int) runner.BenchRow { return rows[i] }
	cols := []mdColumn{
		{"model", false, func(i int) string {
			if r(i).Synthetic {
				return r(i).ModelType + " *"
			}
			return r(i).ModelType
		}},
		{"size", true, func(i int) string { return formatSize(r(i).ModelSize) }},
		{"params", true, func(i int) string { return formatParams(r(i).ModelNParams) }},
		{"backend", false, func(i int) string { return r(i).Backends }},
	}
	ngl := mdColumn{"ngl", true, func(i int) string { return strconv.Itoa(r(i).NGPULayers) }}
	if varies(rows, func(x runner.BenchRow) int { return x.NGPULayers }) ||
		slices.ContainsFunc(rows, func(x runner.BenchRow) bool { return !isCPUBackend(x.Backends) }) {
		cols = append(cols, ngl)
	}
	cols = append(cols, mdColumn{"threads", true, func(i int) string { return strconv.Itoa(r(i).NThreads) }})
	swept := []struct {
		col  mdColumn
		vary bool
	}{
		{mdColumn{"n_batch", true, func(i int) string { return strconv.Itoa(r(i).NBatch) }},
			varies(rows, func(x runner.BenchRow) int { return x.NBatch })},
		{mdColumn{"n_ubatch", true, func(i int) string { return strconv.Itoa(r(i).NUBatch) }},
			varies(rows, func(x runner.BenchRow) int { return x.NUBatch })},
		{mdColumn{"type_k", false, func(i int) string { return r(i).TypeK }},
			varies(rows, func(x runner.BenchRow) string { return x.TypeK })},
		{mdColumn{"type_v", false, func(i int) string { return r(i).TypeV }},
			varies(rows, func(x runner.BenchRow) string { return x.TypeV })},
		{mdColumn{"fa", true, func(i int) string { return boolDigit(r(i).FlashAttn) }},
			varies(rows, func(x runner.BenchRow) bool { return x.FlashAttn })},
	}
	for _, s := range swept {
		if s.vary {
			cols = append(cols, s.col)
		}
	}
	cols = append(cols,
		mdColumn{"test", true, func(i int) string { return testName(r(i)) }},
		mdColumn{"t/s", true, func(i int) string {
			return fmt.Sprintf("%.2f ± %.2f", r(i).AvgTs, r(i).StddevTs)
		}},
	)
	if slices.ContainsFunc(rows, func(x runner.BenchRow) bool { return x.LoadMs > 0 }) {
		cols = append(cols, mdColumn{"load (ms)", true, func(i int) string { return msCell(r(i).LoadMs) }})
	}
	if slices.ContainsFunc(rows, func(x runner.BenchRow) bool { return x.TTFTMs > 0 }) {
		cols = append(cols, mdColumn{"ttft (ms)", true, func(i int) string { return msCell(r(i).TTFTMs) }})
	}
	if slices.ContainsFunc(rows, func(x runner.BenchRow) bool { return x.PeakRSS > 0 }) {
		cols = append(cols, mdColumn{"peak rss", true, func(i int) string {
			if r(i).PeakRSS == 0 {
				return ""
			}
			return formatSize(r(i).PeakRSS)
		}})
	}
	if cmp != nil {
		cols = append(cols, mdColumn{"vs base", true, func(i int) string { return ratioCell(cmp[i]) }})
	}
	return cols
}

// msCell leaves the cell blank where a row has no such measurement (a tg
// row has no time to first token).
func msCell(ms float64) string {
	if ms <= 0 {
		return ""
	}
	return fmt.Sprintf("%.1f", ms)
}

func varies[T comparable](rows []runner.BenchRow, f func(runner.BenchRow) T) bool {
	for _, x := range rows[min(1, len(rows)):] {
		if f(x) != f(rows[0]) {
			return true
		}
	}
	return false
}

// infoLines gives one line per distinct machine and build among rows, in
// order of first appearance; a file mixing machines says so rather than
// showing only the first.
func infoLines(rows []runner.BenchRow) []string {
	type machine struct {
		row     runner.BenchRow
		threads []int
	}
	var order []string
	byKey := map[string]*machine{}
	for _, r := range rows {
		k := machineInfo(r, "")
		m, ok := byKey[k]
		if !ok {
			m = &machine{row: r}
			byKey[k] = m
			order = append(order, k)
		}
		if !slices.Contains(m.threads, r.NThreads) {
			m.threads = append(m.threads, r.NThreads)
		}
	}
	lines := make([]string, len(order))
	for i, k := range order {
		m := byKey[k]
		slices.Sort(m.threads)
		ts := make([]string, len(m.threads))
		for j, t := range m.threads {
			ts[j] = strconv.Itoa(t)
		}
		lines[i] = machineInfo(m.row, strings.Join(ts, ","))
	}
	return lines
}
