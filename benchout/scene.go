package benchout

import (
	"image/color"
	"unicode/utf8"
)

// A scene is a chart laid out once in pixels and then drawn by both the SVG
// and the PNG renderer, so the two outputs cannot drift apart. It holds only
// axis-aligned rectangles and text, which the PNG side draws exactly without
// anti-aliasing.
type scene struct {
	w, h  int
	rects []sceneRect // drawn in order, later over earlier
	texts []sceneText // drawn after all rects
}

type sceneRect struct {
	x, y, w, h float64
	fill       color.RGBA
	bar        bool   // a data bar: one per row, tagged in the SVG
	tip        string // hover text in the SVG
}

type anchor int

const (
	anchorStart anchor = iota
	anchorMiddle
	anchorEnd
)

type sceneText struct {
	x, y  float64 // y is the baseline
	s     string
	at    anchor
	scale int // 1: the 7x13 pixel font; 2: twice as large, for the title
	fill  color.RGBA
}

// Glyph metrics of golang.org/x/image/font/basicfont.Face7x13, which the PNG
// renderer uses; the SVG uses a monospace font of about the same size so the
// layout fits both.
const (
	glyphW      = 7
	glyphAscent = 11
	glyphH      = 13
)

func textWidth(s string, scale int) float64 {
	return float64(utf8.RuneCountInString(s) * glyphW * scale)
}

// left returns the x where the text starts, given its anchor.
func (t sceneText) left() float64 {
	switch t.at {
	case anchorMiddle:
		return t.x - textWidth(t.s, t.scale)/2
	case anchorEnd:
		return t.x - textWidth(t.s, t.scale)
	}
	return t.x
}

func (s *scene) rect(x, y, w, h float64, c color.RGBA) {
	s.rects = append(s.rects, sceneRect{x: x, y: y, w: w, h: h, fill: c})
}

func (s *scene) text(x, y float64, str string, at anchor, scale int, c color.RGBA) {
	s.texts = append(s.texts, sceneText{x: x, y: y, s: str, at: at, scale: scale, fill: c})
}
