package benchout

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/olm-dev/olm/runner"
)

func TestRoundTrip(t *testing.T) {
	rows := sampleRows()
	// A row without samples: nil lists must come back as nil in every format.
	bare := rows[0]
	bare.SamplesNs, bare.SamplesTs = nil, nil
	bare.ModelType = "with \"quotes\", commas\nand a newline"
	bare.Synthetic = true
	rows = append(rows, bare)
	for _, format := range []string{"csv", "json", "jsonl"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, format, rows); err != nil {
				t.Fatal(err)
			}
			got, err := Read(&buf)
			if err != nil {
				t.Fatalf("read back: %v", err)
			}
			if len(got) != len(rows) {
				t.Fatalf("got %d rows, want %d", len(got), len(rows))
			}
			for i := range rows {
				if !reflect.DeepEqual(got[i], rows[i]) {
					t.Errorf("row %d differs:\n got %+v\nwant %+v", i, got[i], rows[i])
				}
			}
		})
	}
}

// llamaBenchFields are the fields llama-bench's json has and ours keeps.
var llamaBenchFields = []string{
	"build_commit", "build_number", "cpu_info", "gpu_info", "backends", "model_filename",
	"model_type", "model_size", "model_n_params", "n_batch", "n_ubatch", "n_threads", "type_k",
	"type_v", "n_gpu_layers", "flash_attn", "use_mmap", "n_prompt", "n_gen", "n_depth",
	"test_time", "avg_ns", "stddev_ns", "avg_ts", "stddev_ts", "samples_ns", "samples_ts",
}

func TestJSONIsOneArrayWithLlamaBenchFields(t *testing.T) {
	rows := sampleRows()
	rows[1].SamplesTs = nil
	var buf bytes.Buffer
	if err := Write(&buf, "json", rows); err != nil {
		t.Fatal(err)
	}
	var objs []map[string]any
	if err := json.Unmarshal(buf.Bytes(), &objs); err != nil {
		t.Fatalf("not one JSON array: %v\n%s", err, buf.String())
	}
	if len(objs) != len(rows) {
		t.Fatalf("%d objects, want %d", len(objs), len(rows))
	}
	for _, f := range append(llamaBenchFields, "test", "load_ms", "ttft_ms", "synthetic") {
		if _, ok := objs[0][f]; !ok {
			t.Errorf("field %q missing", f)
		}
	}
	if objs[0]["n_prompt"] != 512.0 || objs[0]["flash_attn"] != false || objs[0]["test"] != "pp512" {
		t.Errorf("values: n_prompt=%v flash_attn=%v test=%v", objs[0]["n_prompt"], objs[0]["flash_attn"], objs[0]["test"])
	}
	// llama-bench writes [] for samples; scripts iterating them must not meet null.
	if s, ok := objs[1]["samples_ts"].([]any); !ok || len(s) != 0 {
		t.Errorf("nil samples_ts written as %#v, want []", objs[1]["samples_ts"])
	}
}

func TestJSONLIsOneObjectPerLine(t *testing.T) {
	rows := sampleRows()
	var buf bytes.Buffer
	if err := Write(&buf, "jsonl", rows); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != len(rows) {
		t.Fatalf("%d lines, want %d", len(lines), len(rows))
	}
	for i, l := range lines {
		var r runner.BenchRow
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if r.AvgTs != rows[i].AvgTs {
			t.Errorf("line %d avg_ts %v, want %v", i+1, r.AvgTs, rows[i].AvgTs)
		}
	}
}

func TestCSVShape(t *testing.T) {
	rows := sampleRows()[:1]
	var buf bytes.Buffer
	if err := Write(&buf, "csv", rows); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want header + 1:\n%s", len(lines), buf.String())
	}
	if !strings.HasPrefix(lines[0], "build_commit,build_number,cpu_info,") {
		t.Errorf("header %q", lines[0])
	}
	for _, want := range []string{
		`"a1b2c3d","6543","AMD EPYC 7B13 64-Core ""Processor""",`,
		`,"2048","512","4","f16","f16","0","0","1","512","0","0",`, // n_batch..n_depth, booleans as 0/1
		`"4611686018427387904 12345678901 3"`,                      // samples_ns
	} {
		if !strings.Contains(lines[1], want) {
			t.Errorf("row lacks %s:\n%s", want, lines[1])
		}
	}
}

func TestUnknownFormat(t *testing.T) {
	var buf bytes.Buffer
	err := Write(&buf, "sql", sampleRows())
	if err == nil || !strings.Contains(err.Error(), "sql") {
		t.Fatalf("err = %v, want unknown format", err)
	}
}
