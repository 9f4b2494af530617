package benchout

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"image/color"
	"io"
	"strconv"
	"strings"
)

// writeSVG serialises a scene as a standalone SVG document. Bars carry
// class="bar" and a <title>, which browsers show on hover.
func writeSVG(w io.Writer, s *scene) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">`+"\n",
		s.w, s.h, s.w, s.h)
	for _, r := range s.rects {
		attrs := fmt.Sprintf(`x="%s" y="%s" width="%s" height="%s" fill="%s"`,
			num(r.x), num(r.y), num(r.w), num(r.h), hex(r.fill))
		if !r.bar {
			fmt.Fprintf(bw, "<rect %s/>\n", attrs)
			continue
		}
		fmt.Fprintf(bw, `<rect class="bar" %s><title>%s</title></rect>`+"\n", attrs, escape(r.tip))
	}
	for _, t := range s.texts {
		anchor := map[anchor]string{anchorStart: "start", anchorMiddle: "middle", anchorEnd: "end"}[t.at]
		fmt.Fprintf(bw, `<text x="%s" y="%s" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="%s" text-anchor="%s" fill="%s"`,
			num(t.x), num(t.y), num(monoFontSize*float64(t.scale)), anchor, hex(t.fill))
		if t.scale > 1 {
			bw.WriteString(` font-weight="bold"`)
		}
		fmt.Fprintf(bw, ">%s</text>\n", escape(t.s))
	}
	bw.WriteString("</svg>\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write svg: %w", err)
	}
	return nil
}

// monoFontSize makes a monospace glyph, 0.6 em wide in common fonts, as wide
// as the PNG's 7-pixel glyphs, so text fits the layout in both.
const monoFontSize = glyphW / 0.6

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func hex(c color.RGBA) string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }

func escape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s)) // cannot fail on a strings.Builder
	return b.String()
}
