package synth

import (
	"fmt"
	"strconv"
)

// Token types (llama.h's llama_token_type), stored in tokenizer.ggml.token_type.
const (
	TokenNormal      int32 = 1
	TokenUnknown     int32 = 2
	TokenControl     int32 = 3
	TokenUserDefined int32 = 4
	TokenUnused      int32 = 5
	TokenByte        int32 = 6
)

// spmSpace is SentencePiece's word-boundary mark.
const spmSpace = "▁"

// vocab is the tokenizer.ggml.* metadata.
type vocab struct {
	model, pre string // tokenizer.ggml.model and .pre ("" for none)
	tokens     []string
	scores     []float32 // SentencePiece only
	types      []int32
	merges     []string // BPE only
	ids        map[string]int
	bos, eos   int
	unk        int // -1: none
	addBOS     bool
}

// words become whole tokens so tests can tokenize readable text; the others
// in multiByte exercise 2-, 3- and 4-byte UTF-8 in streaming detokenization.
var (
	words     = []string{"Hello", "hello", "world", "the", "The", "is", "a", "of", "and", "to", "in", "it", "that", "you", "I", "for", "on", "with", "as", "was", "this", "be", "are", "Paris", "capital", "France", "Japan", "answer", "question", "model", "test", "cat", "dog", "one", "two", "three", "yes", "no", "日本語", "café"}
	multiByte = []string{"é", "ü", "日", "本", "語", "日本", "日本語", "の", "こ", "ん", "に", "ち", "は", "👋"}
)

// defaultPre is the pre-tokenizer real files of the arch declare.
func defaultPre(arch string) string {
	switch arch {
	case ArchFalcon:
		return "falcon"
	case ArchOLMo:
		return "olmo"
	case ArchOLMo2:
		return "dbrx" // OLMo-2's cl100k-style split, which llama.cpp files under dbrx
	case ArchQwen2:
		return "qwen2"
	}
	return ""
}

func (v *vocab) add(text string, score float32, typ int32) int {
	if id, ok := v.ids[text]; ok {
		return id // llama.cpp asserts that token strings are unique
	}
	id := len(v.tokens)
	v.ids[text] = id
	v.tokens = append(v.tokens, text)
	v.types = append(v.types, typ)
	if v.scores != nil {
		v.scores = append(v.scores, score)
	}
	return id
}

// buildVocab makes a SentencePiece vocabulary for llama and a GPT-2 byte-level
// BPE one for the others, padded with filler tokens to s.NVocab if set.
func buildVocab(s Spec) (*vocab, error) {
	var v *vocab
	if s.Arch == ArchLlama {
		v = spmVocab()
	} else {
		v = bpeVocab(s.Pre)
	}
	for _, t := range s.ExtraSpecial {
		if t == "" {
			return nil, fmt.Errorf("empty extra special token")
		}
		if id, ok := v.ids[t]; ok {
			v.types[id] = TokenControl
			continue
		}
		v.add(t, 0, TokenControl)
	}
	if s.NVocab > 0 {
		if len(v.tokens) > s.NVocab {
			return nil, fmt.Errorf("vocabulary needs %d tokens, more than NVocab %d", len(v.tokens), s.NVocab)
		}
		// Fillers are never produced by tokenizing text: no token is a prefix
		// of them, so neither SentencePiece nor BPE merges can reach them.
		for i := len(v.tokens); len(v.tokens) < s.NVocab; i++ {
			v.add("["+strconv.Itoa(i)+"]", -float32(i), TokenNormal)
		}
	}
	return v, nil
}

// spmVocab lays out a llama-style vocabulary: <unk>, <s>, </s>, the 256
// byte-fallback tokens, then pieces. SentencePiece tokenization merges adjacent
// pieces whose concatenation is a token, so each word comes with the chain of
// its prefixes ("▁H", "▁He", ... "▁Hello").
func spmVocab() *vocab {
	v := &vocab{model: "llama", ids: map[string]int{}, scores: []float32{}, bos: 1, eos: 2, unk: 0, addBOS: true}
	v.add("<unk>", 0, TokenUnknown)
	v.add("<s>", 0, TokenControl)
	v.add("</s>", 0, TokenControl)
	for b := range 256 {
		v.add(fmt.Sprintf("<0x%02X>", b), 0, TokenByte)
	}
	next := func(text string) { v.add(text, -float32(len(v.tokens)), TokenNormal) }
	next(spmSpace)
	for c := byte('!'); c <= '~'; c++ {
		next(string(c))
		next(spmSpace + string(c))
	}
	for _, w := range words {
		for _, p := range prefixes(spmSpace + w) {
			next(p)
		}
	}
	for _, m := range multiByte {
		next(m)
	}
	next(spmSpace + "の")
	return v
}

// prefixes returns s's prefixes of two or more characters, shortest first.
func prefixes(s string) []string {
	var out []string
	n := 0
	for i := range s {
		if n >= 2 {
			out = append(out, s[:i])
		}
		n++
	}
	if n >= 2 {
		out = append(out, s)
	}
	return out
}

// bpeVocab lays out a GPT-2 style vocabulary: <|endoftext|>, the 256
// byte-level characters, then the tokens a few merges build. Byte-level BPE
// spells a space as "Ġ" and a newline as "Ċ".
func bpeVocab(pre string) *vocab {
	v := &vocab{model: "gpt2", pre: pre, ids: map[string]int{}, bos: 0, eos: 0, unk: -1}
	v.add("<|endoftext|>", 0, TokenControl)
	for b := range 256 {
		v.add(byteChar(byte(b)), 0, TokenNormal)
	}
	seen := map[string]bool{}
	var merged []string
	for _, w := range words {
		// The spaced form first: its merges then outrank the bare word's, so
		// " Hello" becomes "ĠHello" rather than "Ġ" + "Hello".
		merged = append(merged, " "+w, w)
	}
	merged = append(merged, multiByte...)
	for _, w := range merged {
		enc := byteLevel(w)
		// Merge left to right: each step joins the piece so far with the next
		// character, so the merge list is a chain ending in the whole word.
		cur := enc[0]
		for _, c := range enc[1:] {
			m := cur + " " + c
			cur += c
			if !seen[m] {
				seen[m] = true
				v.merges = append(v.merges, m)
			}
			v.add(cur, 0, TokenNormal)
		}
	}
	return v
}

// byteLevel spells s in GPT-2's byte-level alphabet, one string per byte.
func byteLevel(s string) []string {
	out := make([]string, len(s))
	for i := range len(s) {
		out[i] = byteChar(s[i])
	}
	return out
}

// byteChar is GPT-2's bytes_to_unicode: printable Latin-1 bytes stand for
// themselves, the other 68 bytes map in order to U+0100 and up.
func byteChar(b byte) string {
	if printableByte(b) {
		return string(rune(b))
	}
	n := 0
	for c := range int(b) {
		if !printableByte(byte(c)) {
			n++
		}
	}
	return string(rune(256 + n))
}

func printableByte(b byte) bool {
	return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE
}
