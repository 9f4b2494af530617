// Package synth writes GGUF v3 model files with random weights that llama.cpp
// loads: tiny models for tests, and models with the exact tensor shapes of real
// ones (TinyLlama, Llama 2, Mistral, Mixtral, Falcon, OLMo, ...) for benchmarks.
//
// Files are streamed tensor by tensor, so a multi-gigabyte model is written with
// bounded memory. Quantized tensor types are produced by a caller-supplied
// Quantizer (the cgo package runner wraps ggml_quantize_chunk); which tensor gets
// which type follows llama.cpp's llama-quant.cpp, so sizes match real files.
package synth
