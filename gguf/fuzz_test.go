package gguf_test

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
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
	return buildGGUF(over, []tensorSpec{
		{"token_embd.weight", []uint64{8, 4}, 0, 0}, // f32: 128 bytes at 0
		{"output.weight", []uint64{32, 2}, 2, 128},  // q4_0: 36 bytes at 128
	}, 128+36)
}

// tensorSpec is one tensor info of a built file.
type tensorSpec struct {
	name string
	dims []uint64
	typ  uint32
	off  uint64
}

// raw is a scalar written as the low bytes of v, as many as its type takes.
type raw struct {
	typ uint32
	v   uint64
}

// buildGGUF writes a GGUF v3 file: mini's metadata with over applied, the tensor infos as
// given (right or wrong), padding to 32, and data bytes of zeros.
func buildGGUF(over []ent, tensors []tensorSpec, data int) []byte {
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
	var scalar func(v any)
	scalar = func(v any) {
		switch v := v.(type) {
		case raw:
			switch v.typ {
			case 0, 1, 7:
				b.WriteByte(byte(v.v))
			case 2, 3:
				b.Write(le.AppendUint16(nil, uint16(v.v)))
			case 4, 5, 6:
				u32(uint32(v.v))
			case 10, 11, 12:
				u64(v.v)
			case 8:
				str(strings.Repeat("x", int(v.v%64)))
			}
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
	u64(uint64(len(tensors)))
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
		case []raw:
			u64(uint64(len(v)))
			for _, x := range v {
				scalar(x)
			}
		}
	}
	for _, ts := range tensors {
		str(ts.name)
		u32(uint32(len(ts.dims)))
		for _, d := range ts.dims {
			u64(d)
		}
		u32(ts.typ)
		u64(ts.off)
	}
	for b.Len()%32 != 0 {
		b.WriteByte(0)
	}
	b.Write(make([]byte, data))
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

// FuzzValidateFields explores well-formed files with fuzzed fields (one metadata entry of
// any type and value, a tensor's shape, type and offset), where the byte-level fuzzer
// rarely gets past the magic: whatever Validate accepts, gguf-parser-go must parse without
// a panic and without an error, or show would refuse a file run loads.
func FuzzValidateFields(f *testing.F) {
	f.Add("llama.context_length", uint32(4), uint32(0), uint8(0), uint64(4096), uint64(8), uint64(4), uint32(0), uint64(128))
	f.Add("llama.block_count", uint32(4), uint32(0), uint8(0), uint64(1<<40), uint64(1<<62), uint64(4), uint32(0), uint64(128))
	f.Add("general.alignment", uint32(4), uint32(0), uint8(0), uint64(64), uint64(8), uint64(0), uint32(0), uint64(1<<40))
	f.Add("llama.attention.head_count_kv", uint32(9), uint32(4), uint8(0), uint64(2), uint64(32), uint64(4), uint32(2), uint64(132))
	f.Add("tokenizer.ggml.scores", uint32(9), uint32(6), uint8(1), uint64(0), uint64(256), uint64(1), uint32(12), uint64(160))
	f.Add("split.tensors.count", uint32(5), uint32(0), uint8(0), uint64(1<<31), uint64(8), uint64(4), uint32(39), uint64(128))
	f.Add("llama.rope.scaling.type", uint32(8), uint32(0), uint8(0), uint64(5), uint64(8), uint64(4), uint32(30), uint64(128))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, key string, typ, elem uint32, n uint8, v, d0, d1 uint64, tt uint32, off uint64) {
		e := ent{key, typ, elem, raw{typ, v}}
		if typ == 9 {
			items := make([]raw, n)
			for i := range items {
				items[i] = raw{elem, v + uint64(i)}
			}
			e.val = items
		}
		data := buildGGUF([]ent{e}, []tensorSpec{
			{"token_embd.weight", []uint64{d0, d1}, tt, 0},
			{"output.weight", []uint64{32, 2}, 2, off},
		}, 4096)
		if _, err := gguf.Validate(bytes.NewReader(data), int64(len(data))); err != nil {
			return
		}
		p := filepath.Join(dir, "f.gguf")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		gf, err := parser.ParseGGUFFile(p)
		if err != nil {
			t.Fatalf("Validate accepted a file gguf-parser-go refuses: %v", err)
		}
		gf.Metadata()
		gf.Architecture()
		gf.Tokenizer()
	})
}
