package runner

// BenchRow is one benchmark result: one test (pp, tg or pg) of one parameter combination.
// Field names follow llama-bench's JSON output where it has the field, so tools written for
// llama-bench read ours; the fields after "olm's own" are extra.
type BenchRow struct {
	BuildCommit   string    `json:"build_commit"`
	BuildNumber   int       `json:"build_number"`
	CPUInfo       string    `json:"cpu_info"`
	GPUInfo       string    `json:"gpu_info"`
	Backends      string    `json:"backends"`
	ModelFilename string    `json:"model_filename"`
	ModelType     string    `json:"model_type"` // llama.cpp's description, e.g. "llama 1B Q4_0"
	ModelSize     uint64    `json:"model_size"` // bytes of weights
	ModelNParams  uint64    `json:"model_n_params"`
	NBatch        int       `json:"n_batch"`
	NUBatch       int       `json:"n_ubatch"`
	NThreads      int       `json:"n_threads"`
	TypeK         string    `json:"type_k"`
	TypeV         string    `json:"type_v"`
	NGPULayers    int       `json:"n_gpu_layers"`
	FlashAttn     bool      `json:"flash_attn"`
	UseMmap       bool      `json:"use_mmap"`
	NPrompt       int       `json:"n_prompt"`
	NGen          int       `json:"n_gen"`
	NDepth        int       `json:"n_depth"`
	TestTime      string    `json:"test_time"` // RFC 3339, UTC
	AvgNs         uint64    `json:"avg_ns"`
	StddevNs      uint64    `json:"stddev_ns"`
	AvgTs         float64   `json:"avg_ts"`
	StddevTs      float64   `json:"stddev_ts"`
	SamplesNs     []uint64  `json:"samples_ns"`
	SamplesTs     []float64 `json:"samples_ts"`

	// olm's own.
	Test        string  `json:"test"` // "pp512", "tg128", "pp512+tg128"
	OlmVersion  string  `json:"olm_version"`
	BuildFlags  string  `json:"build_flags"`
	CPUFeatures string  `json:"cpu_features"` // space-separated, e.g. "AVX2 F16C FMA AVX512"
	CPUCores    int     `json:"cpu_cores"`    // physical cores of the machine
	RAMBytes    uint64  `json:"ram_bytes"`
	OS          string  `json:"os"`          // GOOS/GOARCH and kernel
	Synthetic   bool    `json:"synthetic"`   // random weights with the real model's shapes
	LoadMs      float64 `json:"load_ms"`     // model load time
	TTFTMs      float64 `json:"ttft_ms"`     // time to first token after an n_prompt-token prompt (pp and pg rows)
	PeakRSS     uint64  `json:"peak_rss"`    // bytes, of the whole process after the test
	Repetitions int     `json:"repetitions"` // timed runs after one warm-up
}
