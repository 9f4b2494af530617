package template

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/nikolalohinski/gonja/v2/exec"
)

// filterPyJSON replaces gonja's tojson with the output of Python's
// json.dumps(ensure_ascii=False), which is what HF templates are written
// against: ", " and ": " separators, no HTML escaping. Go maps have no
// insertion order, so object keys come out sorted (HF keeps insertion order).
func filterPyJSON(_ *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	enc := pyEncoder{item: ", ", key: ": "}
	if v, ok := params.KwArgs["indent"]; ok && !v.IsNil() {
		if !v.IsInteger() {
			return exec.AsValue(fmt.Errorf("tojson: indent must be an integer, got %s", v.String()))
		}
		enc.indent = strings.Repeat(" ", v.Integer())
		enc.item = ","
	}
	if v, ok := params.KwArgs["separators"]; ok && v.IsList() && v.Len() == 2 {
		enc.item, enc.key = v.Index(0).String(), v.Index(1).String()
	}
	var b strings.Builder
	if err := enc.encode(&b, reflect.ValueOf(in.Interface()), 0); err != nil {
		return exec.AsValue(fmt.Errorf("tojson: %w", err))
	}
	return exec.AsSafeValue(b.String())
}

type pyEncoder struct {
	indent    string // "" means one line
	item, key string // separators, as in json.dumps(separators=...)
}

func (e pyEncoder) newline(b *strings.Builder, depth int) {
	if e.indent == "" {
		return
	}
	b.WriteByte('\n')
	b.WriteString(strings.Repeat(e.indent, depth))
}

func (e pyEncoder) encode(b *strings.Builder, v reflect.Value, depth int) error {
	for v.IsValid() && (v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer) {
		if v.IsNil() {
			b.WriteString("null")
			return nil
		}
		if ev, ok := v.Interface().(*exec.Value); ok {
			v = reflect.ValueOf(ev.Interface())
			continue
		}
		v = v.Elem()
	}
	if !v.IsValid() {
		b.WriteString("null")
		return nil
	}
	if d, ok := v.Interface().(exec.Dict); ok {
		return e.encodeDict(b, d, depth)
	}
	switch v.Kind() {
	case reflect.Bool:
		b.WriteString(map[bool]string{true: "true", false: "false"}[v.Bool()])
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		b.WriteString(strconv.FormatInt(v.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		b.WriteString(strconv.FormatUint(v.Uint(), 10))
	case reflect.Float32, reflect.Float64:
		b.WriteString(pyFloat(v.Float()))
	case reflect.String:
		writePyString(b, v.String())
	case reflect.Slice, reflect.Array:
		if v.Len() == 0 {
			b.WriteString("[]")
			return nil
		}
		b.WriteByte('[')
		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				b.WriteString(e.item)
			}
			e.newline(b, depth+1)
			if err := e.encode(b, v.Index(i), depth+1); err != nil {
				return err
			}
		}
		e.newline(b, depth)
		b.WriteByte(']')
	case reflect.Map:
		if v.Len() == 0 {
			b.WriteString("{}")
			return nil
		}
		keys := make([]string, 0, v.Len())
		byKey := map[string]reflect.Value{}
		for _, k := range v.MapKeys() {
			ks := fmt.Sprint(k.Interface())
			keys = append(keys, ks)
			byKey[ks] = v.MapIndex(k)
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(e.item)
			}
			e.newline(b, depth+1)
			writePyString(b, k)
			b.WriteString(e.key)
			if err := e.encode(b, byKey[k], depth+1); err != nil {
				return err
			}
		}
		e.newline(b, depth)
		b.WriteByte('}')
	default:
		return fmt.Errorf("cannot encode %s", v.Type())
	}
	return nil
}

// encodeDict writes a dict literal from the template in its own key order,
// as Python would.
func (e pyEncoder) encodeDict(b *strings.Builder, d exec.Dict, depth int) error {
	if len(d.Pairs) == 0 {
		b.WriteString("{}")
		return nil
	}
	b.WriteByte('{')
	for i, p := range d.Pairs {
		if i > 0 {
			b.WriteString(e.item)
		}
		e.newline(b, depth+1)
		writePyString(b, p.Key.String())
		b.WriteString(e.key)
		if err := e.encode(b, reflect.ValueOf(p.Value), depth+1); err != nil {
			return err
		}
	}
	e.newline(b, depth)
	b.WriteByte('}')
	return nil
}

// pyFloat spells a float the way Python's repr does for common values.
func pyFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == math.Trunc(f) && math.Abs(f) < 1e16:
		return strconv.FormatFloat(f, 'f', 1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func writePyString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if r < 0x20 {
				fmt.Fprintf(b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}
