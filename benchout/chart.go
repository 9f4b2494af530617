package benchout

import (
	"fmt"
	"image/color"
	"slices"
	"strconv"
	"strings"

	"github.com/olm-dev/olm/runner"
)

// Chart layout, in pixels.
const (
	margin     = 24.0
	plotH      = 300.0 // height of each panel's plotting area
	barW       = 44.0  // wide enough for a five-character value label
	barGap     = 10.0
	panelGap   = 36.0
	tickLen    = 5.0
	legendSw   = 12.0 // legend swatch size
	legendLine = 20.0
)

// seriesColor is a colour-blind-friendly categorical palette (Tableau 10),
// cycled when there are more series than colours.
func seriesColor(i int) color.RGBA {
	p := [...]color.RGBA{
		{78, 121, 167, 255}, {242, 142, 43, 255}, {225, 87, 89, 255}, {118, 183, 178, 255},
		{89, 161, 79, 255}, {237, 201, 72, 255}, {176, 122, 161, 255}, {255, 157, 167, 255},
		{156, 117, 95, 255}, {186, 176, 172, 255},
	}
	return p[i%len(p)]
}

// chartBar is one row placed in the chart.
type chartBar struct {
	row    runner.BenchRow
	series int
}

// chartGroup is one test (pp512, tg128, ...) and its bars, one per series.
type chartGroup struct {
	test string
	bars []chartBar
}

// groupRows splits rows into one group per test and one series per
// combination of whatever varies across rows (swept parameters, model,
// machine, build), both in order of first appearance. Every row becomes one
// bar; rows that differ in nothing shown get numbered series.
func groupRows(rows []runner.BenchRow) (groups []chartGroup, series []string) {
	label := seriesLabeler(rows)
	seriesIdx := map[string]int{}
	groupIdx := map[string]int{}
	seen := map[[2]string]int{}
	for _, r := range rows {
		test := testName(r)
		l := label(r)
		k := [2]string{test, l}
		seen[k]++
		if n := seen[k]; n > 1 {
			l += " #" + strconv.Itoa(n)
		}
		si, ok := seriesIdx[l]
		if !ok {
			si = len(series)
			seriesIdx[l] = si
			series = append(series, l)
		}
		gi, ok := groupIdx[test]
		if !ok {
			gi = len(groups)
			groupIdx[test] = gi
			groups = append(groups, chartGroup{test: test})
		}
		groups[gi].bars = append(groups[gi].bars, chartBar{row: r, series: si})
	}
	return groups, series
}

// seriesLabeler returns a function naming a row's series by the fields that
// vary across rows; with nothing varying, the series is the model.
func seriesLabeler(rows []runner.BenchRow) func(runner.BenchRow) string {
	type part struct {
		vary bool
		f    func(runner.BenchRow) string
	}
	str := func(f func(runner.BenchRow) string) part {
		return part{varies(rows, f), f}
	}
	num := func(prefix string, f func(runner.BenchRow) int) part {
		return part{varies(rows, f), func(r runner.BenchRow) string { return prefix + strconv.Itoa(f(r)) }}
	}
	model := str(func(r runner.BenchRow) string {
		if r.Synthetic {
			return r.ModelType + " (synthetic)"
		}
		return r.ModelType
	})
	parts := []part{
		model,
		str(func(r runner.BenchRow) string { return r.CPUInfo }),
		str(func(r runner.BenchRow) string { return r.GPUInfo }),
		str(func(r runner.BenchRow) string { return "build " + r.BuildCommit }),
		str(func(r runner.BenchRow) string { return r.Backends }),
		num("threads=", func(r runner.BenchRow) int { return r.NThreads }),
		num("b=", func(r runner.BenchRow) int { return r.NBatch }),
		num("ub=", func(r runner.BenchRow) int { return r.NUBatch }),
		str(func(r runner.BenchRow) string { return "ctk=" + r.TypeK }),
		str(func(r runner.BenchRow) string { return "ctv=" + r.TypeV }),
		str(func(r runner.BenchRow) string { return "fa=" + boolDigit(r.FlashAttn) }),
		num("ngl=", func(r runner.BenchRow) int { return r.NGPULayers }),
		str(func(r runner.BenchRow) string { return "mmap=" + boolDigit(r.UseMmap) }),
	}
	return func(r runner.BenchRow) string {
		var out []string
		for _, p := range parts {
			if p.vary {
				out = append(out, p.f(r))
			}
		}
		if len(out) == 0 {
			return model.f(r)
		}
		return strings.Join(out, " ")
	}
}

// chartTitle names the model(s) and the machine.
func chartTitle(rows []runner.BenchRow) (title string, sub []string) {
	var models []string
	for _, r := range rows {
		if !slices.Contains(models, r.ModelType) {
			models = append(models, r.ModelType)
		}
	}
	title = "olm bench: " + strings.Join(models, ", ")
	if len(models) > 2 {
		title = fmt.Sprintf("olm bench: %d models", len(models))
	}
	r := rows[0]
	machine := []string{}
	if r.CPUInfo != "" {
		cpu := r.CPUInfo
		if r.CPUCores > 0 {
			cpu += fmt.Sprintf(" (%d cores)", r.CPUCores)
		}
		machine = append(machine, cpu)
	}
	if r.GPUInfo != "" {
		machine = append(machine, r.GPUInfo)
	}
	if r.RAMBytes > 0 {
		machine = append(machine, fmt.Sprintf("%.0f GiB RAM", float64(r.RAMBytes)/(1<<30)))
	}
	if r.OS != "" {
		machine = append(machine, r.OS)
	}
	if varies(rows, func(x runner.BenchRow) string { return x.CPUInfo + x.GPUInfo }) {
		machine = []string{"several machines"}
	}
	build := []string{}
	if r.Backends != "" {
		build = append(build, r.Backends)
	}
	if r.BuildCommit != "" {
		build = append(build, "llama.cpp "+r.BuildCommit)
	}
	if r.OlmVersion != "" {
		build = append(build, "olm "+r.OlmVersion)
	}
	if n := r.Repetitions; n > 0 {
		build = append(build, fmt.Sprintf("mean of %d runs, error bars: +/- 1 std dev", n))
	} else {
		build = append(build, "error bars: +/- 1 std dev")
	}
	return title, []string{strings.Join(machine, " | "), strings.Join(build, " | ")}
}

// layoutChart places rows as one panel per test, each with its own y axis:
// prompt processing runs tens of times faster than generation, and on a
// shared axis the generation bars would be unreadably short.
func layoutChart(rows []runner.BenchRow) (*scene, error) {
	if len(rows) == 0 {
		return nil, fmt.Errorf("plot: no results to draw")
	}
	groups, series := groupRows(rows)
	title, sub := chartTitle(rows)
	synthetic := slices.ContainsFunc(rows, func(r runner.BenchRow) bool { return r.Synthetic })

	var (
		colBackground = color.RGBA{255, 255, 255, 255}
		colInk        = color.RGBA{33, 33, 33, 255}
		colMuted      = color.RGBA{110, 110, 110, 255}
		colGrid       = color.RGBA{225, 225, 225, 255}
		colErr        = color.RGBA{40, 40, 40, 255}
	)
	s := &scene{}
	top := margin + 2*glyphH + 2*(glyphH+6) + 34 // title, two subtitle lines, the unit label
	x := margin
	type panel struct {
		x0, w, axisMax, step, axisW float64
	}
	panels := make([]panel, len(groups))
	for gi, g := range groups {
		peak := 0.0
		for _, b := range g.bars {
			peak = max(peak, b.row.AvgTs+b.row.StddevTs)
		}
		axisMax, step := niceAxis(peak * 1.08) // headroom for value labels
		axisW := textWidth(tickLabel(axisMax, step), 1) + tickLen + 6
		w := float64(len(g.bars))*(barW+barGap) + barGap
		w = max(w, textWidth(g.test, 1)+8)
		panels[gi] = panel{x0: x + axisW, w: w, axisMax: axisMax, step: step, axisW: axisW}
		x += axisW + w + panelGap
	}
	legendX := x
	legendW := legendSw + 8
	for _, l := range series {
		legendW = max(legendW, legendSw+8+textWidth(l, 1))
	}
	width := legendX + legendW + margin
	width = max(width, margin*2+textWidth(title, 2))
	for _, l := range sub {
		width = max(width, margin*2+textWidth(l, 1))
	}
	bottom := top + plotH
	height := bottom + glyphH + 10 + margin
	if synthetic {
		height += glyphH + 6
	}
	height = max(height, top+float64(len(series))*legendLine+margin)
	s.w, s.h = int(width+0.5), int(height+0.5)

	s.rect(0, 0, float64(s.w), float64(s.h), colBackground)
	s.text(margin, margin+2*glyphAscent, title, anchorStart, 2, colInk)
	for i, l := range sub {
		s.text(margin, margin+2*glyphH+float64(i+1)*(glyphH+6), l, anchorStart, 1, colMuted)
	}
	s.text(panels[0].x0-panels[0].axisW, top-14, "tokens/s", anchorStart, 1, colInk)

	for gi, g := range groups {
		p := panels[gi]
		scale := plotH / p.axisMax
		for v := 0.0; v <= p.axisMax+p.step/2; v += p.step {
			y := bottom - v*scale
			s.rect(p.x0, y, p.w, 1, colGrid)
			s.rect(p.x0-tickLen, y, tickLen, 1, colInk)
			s.text(p.x0-tickLen-3, y+glyphAscent/2, tickLabel(v, p.step), anchorEnd, 1, colInk)
		}
		s.rect(p.x0, bottom-plotH, 1, plotH+1, colInk) // y axis
		s.rect(p.x0, bottom, p.w, 1, colInk)           // x axis
		for bi, b := range g.bars {
			bx := p.x0 + barGap + float64(bi)*(barW+barGap)
			h := max(b.row.AvgTs, 0) * scale
			s.rects = append(s.rects, sceneRect{
				x: bx, y: bottom - h, w: barW, h: h, fill: seriesColor(b.series), bar: true,
				tip: fmt.Sprintf("%s, %s: %.2f ± %.2f t/s", series[b.series], g.test, b.row.AvgTs, b.row.StddevTs),
			})
			cx := bx + barW/2
			hi := bottom - (b.row.AvgTs+b.row.StddevTs)*scale
			lo := bottom - max(b.row.AvgTs-b.row.StddevTs, 0)*scale
			if b.row.StddevTs > 0 {
				s.rect(cx-0.75, hi, 1.5, lo-hi, colErr)
				s.rect(cx-6, hi, 12, 1.5, colErr)
				s.rect(cx-6, lo-1.5, 12, 1.5, colErr)
			}
			s.text(cx, min(hi, bottom-h)-5, valueLabel(b.row.AvgTs), anchorMiddle, 1, colInk)
		}
		s.text(p.x0+p.w/2, bottom+glyphH+8, g.test, anchorMiddle, 1, colInk)
	}

	for i, l := range series {
		y := top + float64(i)*legendLine
		s.rect(legendX, y, legendSw, legendSw, seriesColor(i))
		s.text(legendX+legendSw+8, y+legendSw-1, l, anchorStart, 1, colInk)
	}
	if synthetic {
		s.text(margin, height-margin+glyphAscent, "* synthetic model: random weights with the real model's shapes", anchorStart, 1, colMuted)
	}
	return s, nil
}
