package benchout

import (
	"bytes"
	"encoding/xml"
	"errors"
	"image"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

type svgBar struct {
	x, y, w, h float64
	title      string
}

// parseSVG decodes the whole document (failing on malformed XML) and returns
// its root element name and the data bars.
func parseSVG(t *testing.T, data []byte) (root string, bars []svgBar) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(data))
	var inBar *svgBar
	var inTitle bool
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = el.Name.Local
			}
			attr := map[string]string{}
			for _, a := range el.Attr {
				attr[a.Name.Local] = a.Value
			}
			if el.Name.Local == "rect" && attr["class"] == "bar" {
				f := func(k string) float64 {
					v, err := strconv.ParseFloat(attr[k], 64)
					if err != nil {
						t.Fatalf("bar %s=%q: %v", k, attr[k], err)
					}
					return v
				}
				bars = append(bars, svgBar{x: f("x"), y: f("y"), w: f("width"), h: f("height")})
				inBar = &bars[len(bars)-1]
			}
			inTitle = el.Name.Local == "title" && inBar != nil
		case xml.CharData:
			if inTitle {
				inBar.title += string(el)
			}
		case xml.EndElement:
			if el.Name.Local == "rect" {
				inBar = nil
			}
			inTitle = false
		}
	}
	return root, bars
}

func TestPlotSVG(t *testing.T) {
	rows := sampleRows()
	rows = append(rows, rows[0]) // a duplicate still gets its own bar
	path := filepath.Join(t.TempDir(), "bench.svg")
	if err := Plot(path, rows); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	root, bars := parseSVG(t, data)
	if root != "svg" {
		t.Fatalf("root element %q", root)
	}
	if len(bars) != len(rows) {
		t.Fatalf("%d bars, want one per row (%d)", len(bars), len(rows))
	}
	// Bars are drawn group by group: pp512 (rows 0, 3, 6), tg128, pp512+tg128.
	pp := []svgBar{bars[0], bars[1], bars[2]}
	for i, b := range pp {
		if !strings.Contains(b.title, "pp512:") {
			t.Errorf("bar %d title %q, want a pp512 bar", i, b.title)
		}
	}
	if !strings.Contains(pp[1].title, "threads=8") || !strings.Contains(pp[1].title, "762.73 ± 2.51") {
		t.Errorf("second pp512 bar %q: want threads=8 at 762.73 t/s", pp[1].title)
	}
	// Heights share the panel's scale and bars sit on one baseline.
	if got, want := pp[1].h/pp[0].h, rows[3].AvgTs/rows[0].AvgTs; math.Abs(got-want) > 1e-9 {
		t.Errorf("bar height ratio %v, want the t/s ratio %v", got, want)
	}
	if math.Abs((pp[0].y+pp[0].h)-(pp[1].y+pp[1].h)) > 1e-9 {
		t.Errorf("bars do not share a baseline")
	}
	for i := 1; i < len(pp); i++ {
		if pp[i].x < pp[i-1].x+pp[i-1].w {
			t.Errorf("bar %d overlaps bar %d", i, i-1)
		}
	}
	text := string(data)
	for _, want := range []string{"olm bench: llama 1B Q4_0", "AMD EPYC 7B13", "tokens/s", ">tg128<", ">threads=4<", "&#34;Processor&#34;"} {
		if !strings.Contains(text, want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
}

func TestPlotPNG(t *testing.T) {
	rows := sampleRows()
	path := filepath.Join(t.TempDir(), "bench.PNG")
	if err := Plot(path, rows); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	s, err := layoutChart(rows)
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds() != image.Rect(0, 0, s.w, s.h) {
		t.Fatalf("size %v, want %dx%d", img.Bounds(), s.w, s.h)
	}
	if s.w < 400 || s.h < 300 {
		t.Errorf("chart %dx%d is too small to read", s.w, s.h)
	}
	// The centre of each bar has its series colour; the corner is background.
	for _, r := range s.rects {
		if !r.bar {
			continue
		}
		got := img.At(int(r.x+r.w/2), int(r.y+r.h/2))
		if !sameColor(got, r.fill) {
			t.Errorf("bar centre is %v, want %v", got, r.fill)
		}
	}
	if !sameColor(img.At(1, 1), image.White) {
		t.Errorf("corner is %v, want white", img.At(1, 1))
	}
	// The title was drawn: some dark pixels in its band.
	dark := 0
	for y := 24; y < 50; y++ {
		for x := 24; x < 300; x++ {
			if r, _, _, _ := img.At(x, y).RGBA(); r < 0x4000 {
				dark++
			}
		}
	}
	if dark < 100 {
		t.Errorf("only %d dark pixels where the title should be", dark)
	}
}

func sameColor(a, b interface{ RGBA() (r, g, b, a uint32) }) bool {
	r1, g1, b1, a1 := a.RGBA()
	r2, g2, b2, a2 := b.RGBA()
	return r1 == r2 && g1 == g2 && b1 == b2 && a1 == a2
}

func TestPlotErrors(t *testing.T) {
	dir := t.TempDir()
	if err := Plot(filepath.Join(dir, "x.svg"), nil); err == nil {
		t.Error("no rows: want an error")
	}
	if err := Plot(filepath.Join(dir, "x.jpg"), sampleRows()); err == nil || !strings.Contains(err.Error(), ".jpg") {
		t.Errorf("jpg: err = %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("failed plots left files: %v", entries)
	}
}

func TestSeriesLabels(t *testing.T) {
	one := sampleRows()[:1]
	if _, series := groupRows(one); len(series) != 1 || series[0] != "llama 1B Q4_0" {
		t.Errorf("single row series %q, want the model", series)
	}
	rows := sampleRows()
	rows[3].FlashAttn = true
	groups, series := groupRows(rows)
	want := []string{"threads=4 fa=0", "threads=8 fa=1", "threads=8 fa=0"}
	if strings.Join(series, "|") != strings.Join(want, "|") {
		t.Errorf("series %q, want %q", series, want)
	}
	if len(groups) != 3 || groups[0].test != "pp512" || len(groups[0].bars) != 2 || len(groups[1].bars) != 2 {
		t.Errorf("groups %+v", groups)
	}
}

func TestNiceAxis(t *testing.T) {
	for _, tc := range []struct{ top, max, step float64 }{
		{763, 800, 200}, {49.1, 50, 10}, {1, 1, 0.2}, {0.37, 0.4, 0.1}, {12345, 15000, 5000}, {0, 1, 0.2},
	} {
		m, s := niceAxis(tc.top)
		if math.Abs(m-tc.max) > 1e-9 || math.Abs(s-tc.step) > 1e-9 {
			t.Errorf("niceAxis(%v) = %v, %v; want %v, %v", tc.top, m, s, tc.max, tc.step)
		}
	}
	if got := tickLabel(0.30000000000000004, 0.1); got != "0.3" {
		t.Errorf("tick label %q", got)
	}
}
