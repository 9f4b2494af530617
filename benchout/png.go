package benchout

import (
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"io"
	"math"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// writePNG rasterises a scene with the standard library. Every shape is an
// axis-aligned rectangle, so snapping edges to whole pixels draws it exactly;
// text uses the 7x13 bitmap font, doubled pixel for pixel for the title.
func writePNG(w io.Writer, s *scene) error {
	img := image.NewRGBA(image.Rect(0, 0, s.w, s.h))
	for _, r := range s.rects {
		x0, y0 := int(math.Round(r.x)), int(math.Round(r.y))
		x1, y1 := int(math.Round(r.x+r.w)), int(math.Round(r.y+r.h))
		// Keep thin strokes (grid lines, error bars) at least a pixel wide.
		if x1 == x0 && r.w > 0 {
			x1++
		}
		if y1 == y0 && r.h > 0 {
			y1++
		}
		draw.Draw(img, image.Rect(x0, y0, x1, y1), image.NewUniform(r.fill), image.Point{}, draw.Src)
	}
	for _, t := range s.texts {
		drawText(img, t)
	}
	if err := png.Encode(w, img); err != nil {
		return fmt.Errorf("write png: %w", err)
	}
	return nil
}

// drawText renders the string into an alpha mask at 1x, then composites it
// scaled by t.scale, so larger text stays crisp rather than blurred.
func drawText(dst *image.RGBA, t sceneText) {
	face := basicfont.Face7x13
	w := int(textWidth(t.s, 1))
	if w == 0 {
		return
	}
	mask := image.NewAlpha(image.Rect(0, 0, w, glyphH))
	d := font.Drawer{Dst: mask, Src: image.Opaque, Face: face, Dot: fixed.P(0, glyphAscent)}
	d.DrawString(t.s)
	x0 := int(math.Round(t.left()))
	y0 := int(math.Round(t.y)) - glyphAscent*t.scale
	src := image.NewUniform(t.fill)
	for y := range glyphH {
		for x := range w {
			a := mask.AlphaAt(x, y).A
			if a == 0 {
				continue
			}
			r := image.Rect(x0+x*t.scale, y0+y*t.scale, x0+(x+1)*t.scale, y0+(y+1)*t.scale)
			draw.DrawMask(dst, r, src, image.Point{}, image.NewUniform(mask.AlphaAt(x, y)), image.Point{}, draw.Over)
		}
	}
}
