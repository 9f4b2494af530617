// Package benchout formats, reads, compares, saves and plots benchmark results
// (runner.BenchRow). The data formats (csv, json, jsonl) use llama-bench's field
// names and shapes, so tools written for llama-bench read olm's results and
// llama-bench's results can serve as an olm baseline.
package benchout
