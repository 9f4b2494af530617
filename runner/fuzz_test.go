package runner_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/olm-dev/olm/runner"
	"github.com/olm-dev/olm/synth"
)

// hparamKeys are the numbers llama.cpp reads from a llama (and Mixtral) file's metadata
// before and while it builds a graph. The GGUF check only sees that they are numbers of
// the right type; FuzzLoadHparams looks for values that make llama.cpp abort instead of
// returning an error.
var hparamKeys = []string{
	"llama.context_length", "llama.embedding_length", "llama.block_count", "llama.feed_forward_length",
	"llama.attention.head_count", "llama.attention.head_count_kv", "llama.rope.dimension_count",
	"llama.attention.layer_norm_rms_epsilon", "llama.rope.freq_base", "llama.expert_count",
	"llama.expert_used_count", "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
	"general.alignment",
}

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
	base := map[bool][]byte{}
	for moe, name := range map[bool]string{false: "llama", true: "mixtral"} {
		s, err := synth.Tiny(name)
		if err != nil {
			f.Fatal(err)
		}
		p := filepath.Join(dir, name+".gguf")
		if err := synth.Write(context.Background(), p, s, nil); err != nil {
			f.Fatal(err)
		}
		if base[moe], err = os.ReadFile(p); err != nil {
			f.Fatal(err)
		}
		m, err := runner.LoadModel(context.Background(), p, runner.ModelOptions{GPULayers: 0})
		if err != nil {
			f.Fatalf("the unfuzzed %s model: %v", name, err)
		}
		m.Close()
		for _, k := range hparamKeys[:9] {
			if at, typ := scalarAt(base[moe], k); at < 0 || (typ != 4 && typ != 6) {
				f.Fatalf("%s: no u32 or f32 %s to fuzz", name, k)
			}
		}
	}
	f32 := func(v float32) uint64 { return uint64(math.Float32bits(v)) }
	// Seeds: the values that once aborted llama.cpp (issue 14) and their neighbours.
	f.Add(false, uint8(2), uint64(0), uint8(0), uint64(4096))                // no layers
	f.Add(false, uint8(7), f32(float32(math.NaN())), uint8(0), uint64(4096)) // NaN epsilon
	f.Add(false, uint8(7), f32(-1), uint8(0), uint64(4096))                  // negative epsilon
	f.Add(true, uint8(9), uint64(1000), uint8(10), uint64(2))                // too many experts
	f.Add(true, uint8(9), uint64(4), uint8(10), uint64(8))                   // more used than exist
	f.Add(true, uint8(9), uint64(0), uint8(10), uint64(2))                   // used without experts
	f.Add(false, uint8(4), uint64(0), uint8(5), uint64(0))                   // no heads
	f.Add(false, uint8(8), f32(0), uint8(6), uint64(0))                      // rope base 0, no rope dims
	path := filepath.Join(dir, "fuzzed.gguf")
	f.Fuzz(func(t *testing.T, moe bool, k1 uint8, v1 uint64, k2 uint8, v2 uint64) {
		b := bytes.Clone(base[moe])
		for _, e := range []struct {
			k uint8
			v uint64
		}{{k1, v1}, {k2, v2}} {
			at, typ := scalarAt(b, hparamKeys[int(e.k)%len(hparamKeys)])
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

// A model that scores the next token with NaN (here a RoPE base of 0, found by
// FuzzLoadHparams; NaN weights do the same) once aborted the process in llama.cpp's
// sampler (assert(found)). Both sampling paths, one sequence and batched, give an error.
func TestNaNLogitsAreAnError(t *testing.T) {
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
	os.WriteFile(p, b, 0o644)
	m, err := runner.LoadModel(context.Background(), p, runner.ModelOptions{GPULayers: 0})
	if err != nil {
		t.Fatal(err)
	}
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
