package gguf_test

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"

	parser "github.com/gpustack/gguf-parser-go"

	"github.com/olm-dev/olm/gguf"
)

// ent is one metadata entry of a built file: a scalar of type typ (u32, i32, f32, string) or
// an array (typ 9) of elem values.
type ent struct {
	key  string
	typ  uint32
	elem uint32
	val  any // uint32, string, []string, []uint32, []float32
}

// miniGGUF is a small valid file (two tensors, a four-token vocabulary): a seed the fuzzer
// can mutate quickly, where the synth model is mostly tensor data. Entries in over replace
// the entry of the same key, or are added.
func miniGGUF(over ...ent) []byte {
	kvs := []ent{
		{"general.architecture", 8, 0, "llama"},
		{"general.alignment", 4, 0, uint32(32)},
		{"llama.block_count", 4, 0, uint32(1)},
		{"llama.attention.head_count", 9, 4, []uint32{2}},
		{"tokenizer.ggml.tokens", 9, 8, []string{"<s>", "</s>", "a", "b"}},
		{"tokenizer.ggml.scores", 9, 6, []float32{0, 0, 0, 0}},
		{"tokenizer.ggml.bos_token_id", 4, 0, uint32(0)},
	}
	for _, o := range over {
		replaced := false
		for i := range kvs {
			if kvs[i].key == o.key {
				kvs[i], replaced = o, true
			}
		}
		if !replaced {
			kvs = append(kvs, o)
		}
	}
	var b bytes.Buffer
	le := binary.LittleEndian
	u32 := func(v uint32) { b.Write(le.AppendUint32(nil, v)) }
	u64 := func(v uint64) { b.Write(le.AppendUint64(nil, v)) }
	str := func(s string) { u64(uint64(len(s))); b.WriteString(s) }
	scalar := func(v any) {
		switch v := v.(type) {
		case uint32:
			u32(v)
		case float32:
			u32(math.Float32bits(v))
		case string:
			str(v)
		}
	}
	b.WriteString("GGUF")
	u32(3)
	u64(2) // tensors
	u64(uint64(len(kvs)))
	for _, e := range kvs {
		str(e.key)
		u32(e.typ)
		if e.typ != 9 {
			scalar(e.val)
			continue
		}
		u32(e.elem)
		switch v := e.val.(type) {
		case []string:
			u64(uint64(len(v)))
			for _, x := range v {
				str(x)
			}
		case []uint32:
			u64(uint64(len(v)))
			for _, x := range v {
				u32(x)
			}
		case []float32:
			u64(uint64(len(v)))
			for _, x := range v {
				u32(math.Float32bits(x))
			}
		}
	}
	str("token_embd.weight") // f32 [8 4]: 128 bytes at 0
	u32(2)
	u64(8)
	u64(4)
	u32(0)
	u64(0)
	str("output.weight") // q4_0 [32 2]: 36 bytes at 128
	u32(2)
	u64(32)
	u64(2)
	u32(2)
	u64(128)
	for b.Len()%32 != 0 {
		b.WriteByte(0)
	}
	b.Write(make([]byte, 128+36))
	return b.Bytes()
}

// FuzzValidate: Validate never panics on any bytes, and a file it accepts parses with
// gguf-parser-go, metadata readers included (what olm show calls), without panicking.
func FuzzValidate(f *testing.F) {
	// Small seeds only: the fuzzer slows to a crawl on the 600 KB synth model.
	f.Add(miniGGUF())
	for _, c := range crafted(f, miniGGUF(), "output.weight") {
		f.Add(c.data)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := gguf.Validate(bytes.NewReader(data), int64(len(data))); err != nil {
			return
		}
		p := filepath.Join(dir, "f.gguf")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		gf, err := parser.ParseGGUFFile(p)
		if err != nil {
			return // an error is fine; a panic is what the check must prevent
		}
		gf.Metadata()
		gf.Architecture()
		gf.Tokenizer()
	})
}

func TestMiniGGUFIsValid(t *testing.T) {
	b := miniGGUF()
	if _, err := gguf.Validate(bytes.NewReader(b), int64(len(b))); err != nil {
		t.Fatal(err)
	}
}
