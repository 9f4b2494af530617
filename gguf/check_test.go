package gguf_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	parser "github.com/gpustack/gguf-parser-go"

	"github.com/olm-dev/olm/gguf"
	"github.com/olm-dev/olm/synth"
)

var (
	tinyOnce  sync.Once
	tinyBytes []byte
	tinyErr   error
)

// tinyModel returns the bytes of synth's tiny llama model, written once per test binary.
func tinyModel(t testing.TB) []byte {
	t.Helper()
	tinyOnce.Do(func() {
		dir, err := os.MkdirTemp("", "olm-gguf-test")
		if err != nil {
			tinyErr = err
			return
		}
		defer os.RemoveAll(dir)
		spec, err := synth.Tiny("llama")
		if err != nil {
			tinyErr = err
			return
		}
		p := filepath.Join(dir, "tiny.gguf")
		if tinyErr = synth.Write(context.Background(), p, spec, nil); tinyErr == nil {
			tinyBytes, tinyErr = os.ReadFile(p)
		}
	})
	if tinyErr != nil {
		t.Fatal(tinyErr)
	}
	return bytes.Clone(tinyBytes)
}

// tensorInfo returns the offset of the n_dims field of the named tensor's info.
func tensorInfo(t testing.TB, b []byte, name string) int {
	t.Helper()
	pat := binary.LittleEndian.AppendUint64(nil, uint64(len(name)))
	i := bytes.Index(b, append(pat, name...))
	if i < 0 {
		t.Fatalf("no tensor %q", name)
	}
	return i + 8 + len(name)
}

// metaValue returns the offset of the type field of a metadata key.
func metaValue(t testing.TB, b []byte, key string) int {
	t.Helper()
	pat := binary.LittleEndian.AppendUint64(nil, uint64(len(key)))
	i := bytes.Index(b, append(pat, key...))
	if i < 0 {
		t.Fatalf("no key %q", key)
	}
	return i + 8 + len(key)
}

func put64(b []byte, at int, v uint64) { binary.LittleEndian.PutUint64(b[at:], v) }
func put32(b []byte, at int, v uint32) { binary.LittleEndian.PutUint32(b[at:], v) }

// crafted are damaged copies of the tiny model, each a defect seen in the wild or crafted by
// the hardening review (issue 14), with the kind of error and a word the message must hold.
func crafted(t testing.TB, good []byte, second string) []struct {
	name string
	data []byte
	kind error
	want string
} {
	edit := func(f func(b []byte)) []byte { b := bytes.Clone(good); f(b); return b }
	emb := tensorInfo(t, good, "token_embd.weight") // n_dims, dims[0], dims[1], type, offset
	out := tensorInfo(t, good, second)
	outOff := out + 4 + 8*int(binary.LittleEndian.Uint32(good[out:])) + 4 // its offset field
	return []struct {
		name string
		data []byte
		kind error
		want string
	}{
		{"dim 2^62", edit(func(b []byte) { put64(b, emb+4, 1<<62) }), gguf.ErrCorrupt, "token_embd.weight"},
		{"dim 2^40", edit(func(b []byte) { put64(b, emb+4, 1<<40) }), gguf.ErrCorrupt, "truncated or corrupt"},
		{"zero dim", edit(func(b []byte) { put64(b, emb+4+8, 0) }), gguf.ErrCorrupt, "zero dimension"},
		{"5 dims", edit(func(b []byte) { put32(b, emb, 5) }), gguf.ErrCorrupt, "5 dimensions"},
		{"offset 2^40", edit(func(b []byte) { put64(b, outOff, 1<<40) }), gguf.ErrCorrupt, "offset 1099511627776"},
		{"unaligned offset", edit(func(b []byte) { put64(b, outOff, binary.LittleEndian.Uint64(b[outOff:])+4) }), gguf.ErrCorrupt, "not a multiple of the alignment"},
		{"bad type", edit(func(b []byte) { put32(b, emb+4+16, 4) }), gguf.ErrUnsupported, "ggml type 4"},
		{"no tensors", edit(func(b []byte) { put64(b, 8, 0) }), gguf.ErrUnsupported, "no tensors"},
		{"huge tensor count", edit(func(b []byte) { put64(b, 8, 1<<60) }), gguf.ErrCorrupt, "corrupt GGUF header"},
		{"huge kv count", edit(func(b []byte) { put64(b, 16, 1<<60) }), gguf.ErrCorrupt, "corrupt GGUF header"},
		{"version 1", edit(func(b []byte) { put32(b, 4, 1) }), gguf.ErrUnsupported, "version 1"},
		{"big endian", edit(func(b []byte) { put32(b, 4, 3<<24) }), gguf.ErrUnsupported, "big-endian"},
		{"alignment i32", edit(func(b []byte) { put32(b, metaValue(t, b, "general.alignment"), 5) }), gguf.ErrCorrupt, "general.alignment"},
		{"alignment 0", edit(func(b []byte) { put32(b, metaValue(t, b, "general.alignment")+4, 0) }), gguf.ErrCorrupt, "power of 2"},
		{"alignment 8", edit(func(b []byte) { put32(b, metaValue(t, b, "general.alignment")+4, 8) }), gguf.ErrCorrupt, "32-byte boundaries"},
		{"alignment 48", edit(func(b []byte) { put32(b, metaValue(t, b, "general.alignment")+4, 48) }), gguf.ErrCorrupt, "power of 2"},
		{"architecture u32", miniGGUF(ent{"general.architecture", 4, 0, uint32(7)}), gguf.ErrCorrupt, "general.architecture holds type u32"},
		{"no architecture", miniGGUF(ent{"general.architecture", 8, 0, " "}), gguf.ErrCorrupt, "general.architecture"},
		{"clip", miniGGUF(ent{"general.architecture", 8, 0, "clip"}), gguf.ErrUnsupported, "vision projector"},
		{"lora", miniGGUF(ent{"general.type", 8, 0, "adapter"}), gguf.ErrUnsupported, "adapter"},
		{"context length string", miniGGUF(ent{"llama.context_length", 8, 0, "4096"}), gguf.ErrCorrupt, "llama.context_length"},
		{"head count empty array", miniGGUF(ent{"llama.attention.head_count", 9, 4, []uint32{}}), gguf.ErrCorrupt, "non-empty array"},
		{"tokens not strings", miniGGUF(ent{"tokenizer.ggml.tokens", 9, 4, []uint32{1, 2, 3, 4}}), gguf.ErrCorrupt, "array of strings"},
		{"too few scores", miniGGUF(ent{"tokenizer.ggml.scores", 9, 6, []float32{0}}), gguf.ErrCorrupt, "one f32 per token"},
		{"scores as u32", miniGGUF(ent{"tokenizer.ggml.scores", 9, 4, []uint32{0, 0, 0, 0}}), gguf.ErrCorrupt, "one f32 per token"},
		{"split tensors count -1", miniGGUF(ent{"split.tensors.count", 5, 0, uint32(0xffffffff)}), gguf.ErrCorrupt, "split.tensors.count"},
		{"file type string", miniGGUF(ent{"general.file_type", 8, 0, "Q4_0"}), gguf.ErrCorrupt, "general.file_type"},
		{"block count 2^31", edit(func(b []byte) { put32(b, metaValue(t, b, "llama.block_count")+4, 1<<31) }), gguf.ErrCorrupt, "block_count"},
		// Values llama.cpp asserts on, which abort the whole process rather than fail a load.
		{"block count 0", miniGGUF(ent{"llama.block_count", 4, 0, uint32(0)}), gguf.ErrCorrupt, "from 1 to"},
		{"rms epsilon NaN", miniGGUF(ent{"llama.attention.layer_norm_rms_epsilon", 6, 0, float32(math.NaN())}), gguf.ErrCorrupt, "layer_norm_rms_epsilon is NaN"},
		{"rms epsilon -1", miniGGUF(ent{"llama.attention.layer_norm_rms_epsilon", 6, 0, float32(-1)}), gguf.ErrCorrupt, "0 or above"},
		{"rope scaling bogus", miniGGUF(ent{"llama.rope.scaling.type", 8, 0, "bogus"}), gguf.ErrCorrupt, "knows none, linear, yarn and longrope"},
		{"rope scaling padded", miniGGUF(ent{"llama.rope.scaling.type", 8, 0, "yarn "}), gguf.ErrCorrupt, "spaces around"},
		{"tokenizer padded", miniGGUF(ent{"tokenizer.ggml.model", 8, 0, "gpt2 "}), gguf.ErrCorrupt, "spaces around"},
		{"more experts used than exist", miniGGUF(ent{"llama.expert_count", 4, 0, uint32(4)}, ent{"llama.expert_used_count", 4, 0, uint32(8)}), gguf.ErrCorrupt, "more used"},
		{"experts none used", miniGGUF(ent{"llama.expert_count", 4, 0, uint32(4)}), gguf.ErrCorrupt, "none used"},
		{"experts used without experts", miniGGUF(ent{"llama.expert_used_count", 4, 0, uint32(2)}), gguf.ErrCorrupt, "more used"},
		{"no heads", miniGGUF(ent{"llama.attention.head_count", 4, 0, uint32(0)}), gguf.ErrCorrupt, "needs attention heads"},
		{"heads not a multiple of KV heads", miniGGUF(ent{"llama.attention.head_count", 4, 0, uint32(59)}, ent{"llama.attention.head_count_kv", 4, 0, uint32(16)}), gguf.ErrCorrupt, "do not divide them"},
		{"heads not dividing the embedding", miniGGUF(ent{"llama.attention.head_count", 4, 0, uint32(48)}, ent{"llama.embedding_length", 4, 0, uint32(64)}), gguf.ErrCorrupt, "which do not divide it"},
		{"heads of one value", miniGGUF(ent{"llama.attention.head_count", 4, 0, uint32(64)}, ent{"llama.embedding_length", 4, 0, uint32(64)}), gguf.ErrCorrupt, "heads of 1 value"},
		{"1000 experts", miniGGUF(ent{"llama.expert_count", 4, 0, uint32(1000)}, ent{"llama.expert_used_count", 4, 0, uint32(2)}), gguf.ErrCorrupt, "up to 512"},
		{"tokens array of arrays", edit(func(b []byte) { put32(b, metaValue(t, b, "tokenizer.ggml.tokens")+4, 9) }), gguf.ErrCorrupt, "array of array"},
		{"huge token array", edit(func(b []byte) { put64(b, metaValue(t, b, "tokenizer.ggml.tokens")+8, 1<<62) }), gguf.ErrCorrupt, "array items"},
		{"header cut", good[:100], gguf.ErrCorrupt, "corrupt GGUF header"},
		{"metadata cut", good[:max(metaValue(t, good, "tokenizer.ggml.tokens")+20, min(3000, len(good)/2))], gguf.ErrCorrupt, "truncated or corrupt"},
		{"data cut", good[:len(good)/2], gguf.ErrCorrupt, "truncated or corrupt"},
		{"empty", nil, gguf.ErrNotGGUF, "empty"},
		{"text", []byte("just some text\n"), gguf.ErrNotGGUF, "text file"},
		{"ggjt", []byte("tjgg\x01\x00\x00\x00"), gguf.ErrNotGGUF, "old GGML"},
		{"magic only", []byte("GGUF\x03\x00"), gguf.ErrCorrupt, "truncated GGUF header"},
	}
}

func TestValidateAcceptsSynthModels(t *testing.T) {
	for _, name := range []string{"llama", "mixtral", "falcon", "qwen2"} {
		spec, err := synth.Tiny(name)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.TempDir(), name+".gguf")
		if err := synth.Write(context.Background(), p, spec, nil); err != nil {
			t.Fatal(err)
		}
		h, err := gguf.Check(p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		st, _ := os.Stat(p)
		if h.Version != 3 || h.Architecture != spec.Arch || h.Alignment != 32 || h.DataOffset%32 != 0 ||
			h.DataEnd != st.Size() || h.Tensors == 0 {
			t.Errorf("%s: header %+v for a %d-byte file", name, h, st.Size())
		}
	}
}

func TestValidateRefusesCraftedFiles(t *testing.T) {
	cases := crafted(t, tinyModel(t), "output_norm.weight")
	cases = append(cases, crafted(t, miniGGUF(), "output.weight")...)
	for _, c := range cases {
		_, err := gguf.Validate(bytes.NewReader(c.data), int64(len(c.data)))
		if !errors.Is(err, c.kind) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %v mentioning %q", c.name, err, c.kind, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error spans lines: %q", c.name, err)
		}
	}
}

func TestCheckPaths(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.gguf")
	if err := os.WriteFile(good, tinyModel(t), 0o644); err != nil {
		t.Fatal(err)
	}
	loop := filepath.Join(dir, "loop.gguf")
	os.Symlink(loop, loop)
	dangling := filepath.Join(dir, "dangling.gguf")
	os.Symlink(filepath.Join(dir, "gone.gguf"), dangling)
	link := filepath.Join(dir, "link.gguf")
	os.Symlink(good, link)
	if _, err := gguf.Check(link); err != nil {
		t.Errorf("symlink to a good file: %v", err)
	}
	for _, c := range []struct {
		path string
		is   error
		want string
	}{
		{loop, syscall.ELOOP, "symlink loop"},
		{dangling, fs.ErrNotExist, "symlink to " + filepath.Join(dir, "gone.gguf")},
		{filepath.Join(dir, "missing.gguf"), fs.ErrNotExist, "no such file"},
		{dir, gguf.ErrNotRegular, "is a directory"},
		{"/dev/null", gguf.ErrNotRegular, "is a device"},
	} {
		_, err := gguf.Check(c.path)
		if !errors.Is(err, c.is) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.path) {
			t.Errorf("%s: %v, want %v mentioning %q", c.path, err, c.is, c.want)
		}
	}
}

// Opening a FIFO blocks until a writer comes; Check must refuse it at once.
func TestCheckRefusesFIFOWithoutBlocking(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.gguf")
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	go func() { _, err := gguf.Check(p); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, gguf.ErrNotRegular) || !strings.Contains(err.Error(), "FIFO") {
			t.Errorf("FIFO: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Check blocked on a FIFO")
	}
}

func TestTypeTraitsMatchParser(t *testing.T) {
	for id := range uint32(64) {
		tr, ok := gguf.Type(id).Traits()
		if !ok {
			continue
		}
		pt, pok := parser.GGMLType(id).Trait()
		if !pok || int(pt.BlockSize) != tr.BlockSize || int(pt.TypeSize) != tr.BlockBytes {
			t.Errorf("type %d (%s): ours %+v, gguf-parser-go %+v (known %v)", id, tr.Name, tr, pt, pok)
		}
	}
}

func TestParts(t *testing.T) {
	for in, want := range map[string]string{
		"/m/x-00002-of-00003.gguf": "/m/x-00001-of-00003.gguf /m/x-00002-of-00003.gguf /m/x-00003-of-00003.gguf",
		"x-00001-of-00001.gguf":    "x-00001-of-00001.gguf",
		"/m/x.gguf":                "/m/x.gguf",
		"/m/x-00004-of-00003.gguf": "/m/x-00004-of-00003.gguf",
		"/m/x-0000a-of-00003.gguf": "/m/x-0000a-of-00003.gguf",
		"/m/sha256-abc":            "/m/sha256-abc",
	} {
		if got := strings.Join(gguf.Parts(in), " "); got != want {
			t.Errorf("Parts(%q) = %q, want %q", in, got, want)
		}
	}
}

// A FIFO in place of the second part of a split model would block llama.cpp and the parser
// when they open the siblings.
func TestCheckModelChecksEveryPart(t *testing.T) {
	dir := t.TempDir()
	first := filepath.Join(dir, "m-00001-of-00002.gguf")
	if err := os.WriteFile(first, tinyModel(t), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "m-00002-of-00002.gguf"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := gguf.CheckModel(first); !errors.Is(err, gguf.ErrNotRegular) || !strings.Contains(err.Error(), "m-00002-of-00002.gguf") {
		t.Errorf("FIFO as part 2: %v", err)
	}
}
