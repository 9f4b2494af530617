package benchout

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"

	"github.com/olm-dev/olm/runner"
)

// writeCSV writes a header of field names and one line per row, every value
// quoted as llama-bench does. Floats use the shortest exact representation so a
// saved file reads back to the same numbers; sample lists, which llama-bench's
// csv lacks, are space-separated inside one field.
func writeCSV(w io.Writer, rows []runner.BenchRow) error {
	cols := columns()
	bw := bufio.NewWriter(w)
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.name
	}
	bw.WriteString(strings.Join(names, ",") + "\n")
	for _, r := range rows {
		v := reflect.ValueOf(r)
		for i, c := range cols {
			if i > 0 {
				bw.WriteByte(',')
			}
			bw.WriteString(quoteCSV(formatCSVValue(v.Field(c.index))))
		}
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

func quoteCSV(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

func formatCSVValue(v reflect.Value) string {
	switch v.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Bool:
		// llama-bench writes booleans as 0/1.
		if v.Bool() {
			return "1"
		}
		return "0"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(v.Uint(), 10)
	case reflect.Float32, reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	case reflect.Slice:
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = formatCSVValue(v.Index(i))
		}
		return strings.Join(parts, " ")
	}
	return fmt.Sprint(v.Interface())
}

// readCSV parses a csv with a header line. Columns are matched by name, so
// llama-bench's csv (which has columns we lack and lacks some of ours) reads too.
func readCSV(r io.Reader) ([]runner.BenchRow, error) {
	cr := csv.NewReader(r)
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("csv: empty input")
		}
		return nil, fmt.Errorf("csv header: %w", err)
	}
	byName := map[string]column{}
	for _, c := range columns() {
		byName[c.name] = c
	}
	known := 0
	cols := make([]*column, len(header))
	for i, h := range header {
		if c, ok := byName[strings.TrimSpace(h)]; ok {
			cols[i] = &c
			known++
		}
	}
	if known == 0 {
		return nil, errors.New("csv: header has no benchmark fields (want avg_ts, n_prompt, ...)")
	}
	var rows []runner.BenchRow
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return nil, fmt.Errorf("csv: %w", err)
		}
		var row runner.BenchRow
		v := reflect.ValueOf(&row).Elem()
		for i, s := range rec {
			if cols[i] == nil {
				continue
			}
			if err := parseCSVValue(v.Field(cols[i].index), s); err != nil {
				return nil, fmt.Errorf("csv line %d, field %s: %w", line, cols[i].name, err)
			}
		}
		rows = append(rows, row)
	}
}

func parseCSVValue(v reflect.Value, s string) error {
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
		return nil
	case reflect.Slice:
		fields := strings.Fields(s)
		if len(fields) == 0 {
			return nil // nil, as an empty JSON list reads back
		}
		sl := reflect.MakeSlice(v.Type(), len(fields), len(fields))
		for i, f := range fields {
			if err := parseCSVValue(sl.Index(i), f); err != nil {
				return err
			}
		}
		v.Set(sl)
		return nil
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	switch v.Kind() {
	case reflect.Bool:
		b, err := parseBool(s)
		if err != nil {
			return err
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, v.Type().Bits())
		if err != nil {
			return err
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(s, 10, v.Type().Bits())
		if err != nil {
			return err
		}
		v.SetUint(n)
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(s, v.Type().Bits())
		if err != nil {
			return err
		}
		v.SetFloat(f)
	default:
		return fmt.Errorf("unsupported field kind %s", v.Kind())
	}
	return nil
}

// parseBool accepts true/false and integers; llama-bench writes 0/1, and some
// versions write -1 for flash_attn "auto", which we read as on.
func parseBool(s string) (bool, error) {
	if b, err := strconv.ParseBool(s); err == nil {
		return b, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return false, fmt.Errorf("not a boolean: %q", s)
	}
	return n != 0, nil
}
