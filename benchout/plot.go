package benchout

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/olm-dev/olm/runner"
)

// Plot draws t/s per test as a bar chart, one panel per test and one bar per
// row with ± one standard deviation error bars, and writes it to path as SVG
// or PNG by its extension. The file is written atomically, like Save.
func Plot(path string, rows []runner.BenchRow) error {
	s, err := layoutChart(rows)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".svg":
		err = writeSVG(&buf, s)
	case ".png":
		err = writePNG(&buf, s)
	default:
		return fmt.Errorf("plot %s: unknown image type %q (want .svg or .png)", path, ext)
	}
	if err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	return writeFileAtomic(path, buf.Bytes())
}
