package benchout

import (
	"strings"
	"testing"
)

// Shaped like llama-bench's own -o json/jsonl/csv output: fields we do not
// have (cpu_mask, poll, ...) and none of ours (no "test").
const llamaBenchJSON = `[
  {
    "build_commit": "8ff2060",
    "build_number": 6600,
    "cpu_info": "Intel Xeon",
    "gpu_info": "",
    "backends": "CPU",
    "model_filename": "m.gguf",
    "model_type": "llama 1B Q4_0",
    "model_size": 636000000,
    "model_n_params": 1100048384,
    "n_batch": 2048,
    "n_ubatch": 512,
    "n_threads": 8,
    "cpu_mask": "0x0",
    "cpu_strict": false,
    "poll": 50,
    "type_k": "f16",
    "type_v": "f16",
    "n_gpu_layers": 99,
    "flash_attn": false,
    "use_mmap": true,
    "n_prompt": 512,
    "n_gen": 0,
    "n_depth": 0,
    "test_time": "2025-10-01T10:00:00Z",
    "avg_ns": 1000000000,
    "stddev_ns": 1000,
    "avg_ts": 512.000000,
    "stddev_ts": 0.500000,
    "samples_ns": [ 1000000000, 1000000000 ],
    "samples_ts": [ 512, 512 ]
  }
]
`

const llamaBenchCSV = `build_commit,build_number,cpu_info,gpu_info,backends,model_filename,model_type,model_size,model_n_params,n_batch,n_ubatch,n_threads,cpu_mask,cpu_strict,poll,type_k,type_v,n_gpu_layers,n_cpu_moe,split_mode,main_gpu,no_kv_offload,flash_attn,devices,tensor_split,tensor_buft_overrides,use_mmap,embeddings,no_op_offload,no_host,n_prompt,n_gen,n_depth,test_time,avg_ns,stddev_ns,avg_ts,stddev_ts
"8ff2060","6600","Intel Xeon","","CPU","m.gguf","llama 1B Q4_0","636000000","1100048384","2048","512","8","0x0","0","50","f16","f16","99","0","layer","0","0","1","auto","0.00","none","1","0","0","0","0","128","512","2025-10-01T10:00:00Z","4000000000","1000","32.000000","0.250000"
`

func TestReadLlamaBench(t *testing.T) {
	for name, in := range map[string]string{
		"json":  llamaBenchJSON,
		"jsonl": strings.Join(strings.Fields(strings.Trim(llamaBenchJSON, "[]\n ")), " ") + "\n",
		"csv":   "\ufeff" + llamaBenchCSV, // with a byte order mark, as spreadsheets save it
	} {
		t.Run(name, func(t *testing.T) {
			rows, err := Read(strings.NewReader(in))
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 1 {
				t.Fatalf("%d rows, want 1", len(rows))
			}
			r := rows[0]
			if r.ModelType != "llama 1B Q4_0" || r.NThreads != 8 || r.NGPULayers != 99 || !r.UseMmap {
				t.Errorf("parsed %+v", r)
			}
			want := "pp512"
			if name == "csv" {
				want = "tg128 @ d512"
				if !r.FlashAttn || r.AvgTs != 32 || r.StddevTs != 0.25 || r.NDepth != 512 {
					t.Errorf("csv values: %+v", r)
				}
			}
			if got := testName(r); got != want {
				t.Errorf("test name %q, want %q", got, want)
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	for name, tc := range map[string]struct{ in, want string }{
		"empty":          {"  \n", "empty input"},
		"not results":    {"a,b,c\n1,2,3\n", "no benchmark fields"},
		"bad number":     {"n_threads,avg_ts\n\"8\",\"1.5\"\n\"eight\",\"2\"\n", "line 3, field n_threads"},
		"trailing data":  {"[]\n[]", "after the array"},
		"broken json":    {`[{"avg_ts": }]`, "json"},
		"broken jsonl":   {"{\"avg_ts\": 1}\n{\"avg_ts\": \"x\"}\n", "jsonl row 2"},
		"ragged csv row": {"n_threads,avg_ts\n\"8\"\n", "csv"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}
