package synth_test

import (
	"strings"
	"testing"

	gguf "github.com/gpustack/gguf-parser-go"

	"github.com/olm-dev/olm/synth"
)

// vocabOf writes s and returns its tokens, token types and merges.
func vocabOf(t *testing.T, s synth.Spec) (*gguf.GGUFFile, []string, []int32, []string) {
	t.Helper()
	_, f := writeTiny(t, s, nil)
	strs := func(key string) []string {
		kv, ok := f.Header.MetadataKV.Get(key)
		if !ok {
			return nil
		}
		var out []string
		for _, v := range kv.ValueArray().Array {
			out = append(out, v.(string))
		}
		return out
	}
	kv, ok := f.Header.MetadataKV.Get("tokenizer.ggml.token_type")
	if !ok {
		t.Fatal("no token types")
	}
	return f, strs("tokenizer.ggml.tokens"), kv.ValueArray().ValuesInt32(), strs("tokenizer.ggml.merges")
}

func TestSentencePieceVocab(t *testing.T) {
	s, _ := synth.Tiny("llama")
	s.ExtraSpecial = []string{"[INST]", "[/INST]", "<|im_start|>", "<|im_end|>"}
	s.NVocab = 1000
	f, toks, types, merges := vocabOf(t, s)
	if len(toks) != 1000 || len(types) != 1000 {
		t.Fatalf("%d tokens, %d types, want 1000", len(toks), len(types))
	}
	if merges != nil {
		t.Errorf("SentencePiece vocabulary has merges")
	}
	if toks[0] != "<unk>" || toks[1] != "<s>" || toks[2] != "</s>" || types[1] != synth.TokenControl {
		t.Errorf("specials %q %q %q", toks[0], toks[1], toks[2])
	}
	// Byte fallback: llama.cpp finds '\n' as <0x0A> and refuses vocabularies
	// that lack any byte.
	for b := range 256 {
		if types[3+b] != synth.TokenByte || !strings.HasPrefix(toks[3+b], "<0x") {
			t.Fatalf("token %d = %q type %d, want byte token", 3+b, toks[3+b], types[3+b])
		}
	}
	if toks[3+10] != "<0x0A>" {
		t.Errorf("newline byte token is %q", toks[13])
	}
	id := map[string]int{}
	for i, tok := range toks {
		if _, dup := id[tok]; dup {
			t.Fatalf("duplicate token %q", tok) // llama.cpp asserts on this
		}
		id[tok] = i
	}
	for _, want := range []string{"▁", "▁H", "▁He", "▁Hel", "▁Hell", "▁Hello", "▁world", "é", "日本", "▁日本語", "▁の", "👋", "a", "▁a", "?"} {
		if _, ok := id[want]; !ok {
			t.Errorf("missing token %q", want)
		}
	}
	for _, sp := range s.ExtraSpecial {
		if i, ok := id[sp]; !ok || types[i] != synth.TokenControl {
			t.Errorf("%s: present %v, type %d; want CONTROL", sp, ok, types[i])
		}
	}
	if got := metaU32(t, f, "tokenizer.ggml.bos_token_id"); got != 1 {
		t.Errorf("bos %d", got)
	}
	if got := metaU32(t, f, "tokenizer.ggml.eos_token_id"); got != 2 {
		t.Errorf("eos %d", got)
	}
	if got := metaString(t, f, "tokenizer.ggml.model"); got != "llama" {
		t.Errorf("model %q", got)
	}
}

func TestBPEVocab(t *testing.T) {
	for name, pre := range map[string]string{"falcon": "falcon", "olmo": "olmo", "olmo2": "dbrx", "qwen2": "qwen2"} {
		s, _ := synth.Tiny(name)
		s.ExtraSpecial = []string{"<|im_start|>", "<|im_end|>"}
		f, toks, types, merges := vocabOf(t, s)
		if got := metaString(t, f, "tokenizer.ggml.pre"); got != pre {
			t.Errorf("%s: pre %q, want %q", name, got, pre)
		}
		id := map[string]int{}
		for i, tok := range toks {
			if _, dup := id[tok]; dup {
				t.Fatalf("%s: duplicate token %q", name, tok)
			}
			id[tok] = i
		}
		// Every byte has its byte-level character ("Ġ" space, "Ċ" newline).
		n := 0
		for _, tok := range toks {
			if r := []rune(tok); len(r) == 1 && len(tok) <= 2 {
				n++
			}
		}
		if n < 256 {
			t.Errorf("%s: %d single-character tokens, want all 256 bytes", name, n)
		}
		for _, want := range []string{"Ġ", "Ċ", "ĠHello", "Ġworld", "Hello", "Ã©", "<|endoftext|>"} {
			if _, ok := id[want]; !ok {
				t.Errorf("%s: missing token %q", name, want)
			}
		}
		if len(merges) < 50 {
			t.Fatalf("%s: %d merges", name, len(merges))
		}
		for _, m := range merges {
			a, b, ok := strings.Cut(m, " ")
			_, okA := id[a]
			_, okB := id[b]
			_, okAB := id[a+b]
			if !ok || !okA || !okB || !okAB {
				t.Errorf("%s: merge %q does not join two tokens into a token", name, m)
			}
		}
		if i := id["<|im_end|>"]; types[i] != synth.TokenControl {
			t.Errorf("%s: <|im_end|> type %d", name, types[i])
		}
	}
}

func TestFillerVocab(t *testing.T) {
	s, _ := synth.Shape("falcon-7b")
	size, err := synth.FileSize(s)
	if err != nil {
		t.Fatal(err)
	}
	ts, _ := synth.Tensors(s)
	var data int64
	for _, ti := range ts {
		data += ti.Size
	}
	// The header holds 65024 tokens: more than 500 KB, far less than the weights.
	if hdr := size - data; hdr < 500_000 || hdr > 3_000_000 {
		t.Errorf("header of %d bytes", hdr)
	}
}
