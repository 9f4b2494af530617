package runner_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/olm-dev/olm/runner"
	"github.com/olm-dev/olm/synth"
)

// hparamKeys are the numbers llama.cpp reads from a model's metadata before and while it
// builds a graph ("ARCH." stands for the file's architecture). The GGUF check only sees
// that they are numbers of the right type; FuzzLoadHparams looks for values that make
// llama.cpp abort instead of returning an error.
var hparamKeys = []string{
	"ARCH.context_length", "ARCH.embedding_length", "ARCH.block_count", "ARCH.feed_forward_length",
	"ARCH.attention.head_count", "ARCH.attention.head_count_kv", "ARCH.rope.dimension_count",
	"ARCH.attention.layer_norm_rms_epsilon", "ARCH.rope.freq_base", "ARCH.expert_count",
	"ARCH.expert_used_count", "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
	"general.alignment", "ARCH.attention.layer_norm_epsilon", "ARCH.attention.clamp_kqv",
	"tokenizer.ggml.padding_token_id", "tokenizer.ggml.unknown_token_id",
}

// fuzzArchs are the tiny models FuzzLoadHparams edits: each architecture reads its
// hyperparameters in its own branch of llama.cpp's loader and builds its own graph.
var fuzzArchs = []string{"llama", "mixtral", "falcon", "olmo2", "qwen2"}

// scalarAt returns where the value of a u32 or f32 metadata key starts and its type.
func scalarAt(b []byte, key string) (int, uint32) {
	pat := binary.LittleEndian.AppendUint64(nil, uint64(len(key)))
	i := bytes.Index(b, append(pat, key...))
	if i < 0 {
		return -1, 0
	}
	at := i + 8 + len(key)
	return at + 4, binary.LittleEndian.Uint32(b[at:])
}

// FuzzLoadHparams sets one or two of a tiny model's hyperparameters to fuzzed values: a
// file the GGUF check accepts must load, decode and close, or fail with an error; never
// abort the process (a GGML_ASSERT kills the fuzz worker, which the fuzzer reports with the
// input). Run it for minutes with:
//
//	go test -run '^$' -fuzz '^FuzzLoadHparams$' -fuzztime 3m ./runner/
func FuzzLoadHparams(f *testing.F) {
	dir := f.TempDir()
	type model struct {
		arch string
		data []byte
	}
	var bases []model
	for _, name := range fuzzArchs {
		s, err := synth.Tiny(name)
		if err != nil {
			f.Fatal(err)
		}
		p := filepath.Join(dir, name+".gguf")
		if err := synth.Write(context.Background(), p, s, nil); err != nil {
			f.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		m, err := runner.LoadModel(context.Background(), p, runner.ModelOptions{GPULayers: 0})
		if err != nil {
			f.Fatalf("the unfuzzed %s model: %v", name, err)
		}
		m.Close()
		bases = append(bases, model{s.Arch, b})
	}
	for _, k := range hparamKeys[:4] {
		if at, typ := scalarAt(bases[0].data, strings.ReplaceAll(k, "ARCH", "llama")); at < 0 || (typ != 4 && typ != 6) {
			f.Fatalf("no u32 or f32 %s to fuzz", k)
		}
	}
	f32 := func(v float32) uint64 { return uint64(math.Float32bits(v)) }
	// Seeds: the values that once aborted llama.cpp (issue 14) and their neighbours; the
	// first argument picks the model (0 llama, 1 mixtral, ...).
	f.Add(uint8(0), uint8(2), uint64(0), uint8(0), uint64(4096))                // no layers
	f.Add(uint8(0), uint8(7), f32(float32(math.NaN())), uint8(0), uint64(4096)) // NaN epsilon
	f.Add(uint8(0), uint8(7), f32(-1), uint8(0), uint64(4096))                  // negative epsilon
	f.Add(uint8(1), uint8(9), uint64(1000), uint8(10), uint64(2))               // too many experts
	f.Add(uint8(1), uint8(9), uint64(4), uint8(10), uint64(8))                  // more used than exist
	f.Add(uint8(1), uint8(9), uint64(0), uint8(10), uint64(2))                  // used without experts
	f.Add(uint8(0), uint8(4), uint64(0), uint8(5), uint64(0))                   // no heads
	f.Add(uint8(0), uint8(8), f32(0), uint8(6), uint64(0))                      // rope base 0, no rope dims
	f.Add(uint8(2), uint8(14), f32(float32(math.NaN())), uint8(4), uint64(1))   // falcon's layer norm
	f.Add(uint8(3), uint8(7), f32(float32(math.Inf(1))), uint8(15), f32(-1))    // olmo2
	f.Add(uint8(4), uint8(16), uint64(1<<31), uint8(17), uint64(1<<31))         // qwen2 token ids
	path := filepath.Join(dir, "fuzzed.gguf")
	f.Fuzz(func(t *testing.T, which uint8, k1 uint8, v1 uint64, k2 uint8, v2 uint64) {
		base := bases[int(which)%len(bases)]
		b := bytes.Clone(base.data)
		for _, e := range []struct {
			k uint8
			v uint64
		}{{k1, v1}, {k2, v2}} {
			at, typ := scalarAt(b, strings.ReplaceAll(hparamKeys[int(e.k)%len(hparamKeys)], "ARCH", base.arch))
			if at < 0 || (typ != 4 && typ != 6) { // u32 or f32: a 4-byte value in place
				continue
			}
			binary.LittleEndian.PutUint32(b[at:], uint32(e.v))
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		m, err := runner.LoadModel(context.Background(), path, runner.ModelOptions{GPULayers: 0})
		if err != nil {
			return
		}
		defer m.Close()
		c, err := m.NewContext(runner.ContextOptions{Ctx: 64, Threads: 1})
		if err != nil {
			return
		}
		defer c.Close()
		s, err := runner.NewSampler(runner.DefaultSampling())
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		toks, err := m.Tokenize("Hello world", true, false)
		if err != nil {
			return
		}
		c.Generate(context.Background(), toks, runner.GenerateOptions{MaxTokens: 2, Sampler: s}, func([]byte) error { return nil })
	})
}

// nanModel loads the tiny llama model with a RoPE base of 0, which scores every token NaN.
func nanModel(t *testing.T) *runner.Model {
	t.Helper()
	s, err := synth.Tiny("llama")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "m.gguf")
	if err := synth.Write(context.Background(), p, s, nil); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	at, typ := scalarAt(b, "llama.rope.freq_base")
	if at < 0 || typ != 6 {
		t.Fatal("no f32 llama.rope.freq_base in the tiny model")
	}
	binary.LittleEndian.PutUint32(b[at:], 0)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := runner.LoadModel(context.Background(), p, runner.ModelOptions{GPULayers: 0})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// A model that scores the next token with NaN (here a RoPE base of 0, found by
// FuzzLoadHparams; NaN weights do the same) once aborted the process in llama.cpp's
// sampler (assert(found)). Both sampling paths, one sequence and batched, give an error.
func TestNaNLogitsAreAnError(t *testing.T) {
	m := nanModel(t)
	defer m.Close()
	c, err := m.NewContext(runner.ContextOptions{Ctx: 64, Threads: 1, Seqs: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	smpl := sampler(t, 0.8, 1)
	toks, _ := m.Tokenize("Hello world", true, false)
	if _, err := c.Generate(context.Background(), toks, runner.GenerateOptions{MaxTokens: 4, Sampler: smpl}, func([]byte) error { return nil }); !errors.Is(err, runner.ErrBadLogits) {
		t.Fatalf("Generate: %v", err)
	}
	c.SeqRemove(0, 0, -1) // what Generate left
	batch := runner.NewBatch(16)
	defer batch.Close()
	draws := runner.NewDraws(2)
	defer draws.Close()
	for seq := range 2 {
		for j, tk := range toks {
			if j == len(toks)-1 {
				draws.Set(seq, batch.Add(tk, j, seq, true), smpl)
			} else {
				batch.Add(tk, j, seq, false)
			}
		}
	}
	if err := c.Step(batch, draws, 2); !errors.Is(err, runner.ErrBadLogits) {
		t.Fatalf("Step: %v", err)
	}
}

// Perplexity's scoring path refuses NaN scores the same way.
func TestNaNLogitsInAWindowAreAnError(t *testing.T) {
	m := nanModel(t)
	defer m.Close()
	c, err := m.NewContext(runner.ContextOptions{Ctx: 64, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	toks, _ := m.Tokenize("Hello world, hello world", true, false)
	dst := make([]float32, len(toks)*m.NVocab())
	if err := c.EvalWindow(context.Background(), toks, 0, dst); !errors.Is(err, runner.ErrBadLogits) {
		t.Fatalf("EvalWindow: %v", err)
	}
}
