package benchout

import (
	"reflect"
	"strings"

	"github.com/olm-dev/olm/runner"
)

// column is one exported BenchRow field as the data formats see it: the name
// comes from the json tag so csv, json and jsonl agree on field names.
type column struct {
	name  string
	index int
	kind  reflect.Kind
	elem  reflect.Kind // element kind for slices
}

// columns lists BenchRow's fields in struct order. It is computed per call
// rather than cached in a package variable: reflection over ~45 fields is cheap
// next to a benchmark, and the package keeps no global state.
func columns() []column {
	t := reflect.TypeOf(runner.BenchRow{})
	cols := make([]column, 0, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		c := column{name: name, index: i, kind: f.Type.Kind()}
		if c.kind == reflect.Slice {
			c.elem = f.Type.Elem().Kind()
		}
		cols = append(cols, c)
	}
	return cols
}
