package models

import (
	"fmt"
	"strings"

	parser "github.com/gpustack/gguf-parser-go"
)

// Info is what `olm show` needs from a GGUF header.
type Info struct {
	Path          string
	Name          string // general.name
	Arch          string
	Params        uint64
	FileType      string  // e.g. Q4_K_M, from general.file_type (or guessed from tensors)
	BitsPerWeight float64 // average over tensors
	ContextLength int     // trained context
	NLayer        int
	NEmbd         int
	NHead         int
	NHeadKV       int
	HeadDim       int
	NExpert       int
	NFF           int // feed-forward length (the largest layer's)
	NVocab        int
	ChatTemplate  string // tokenizer.chat_template, "" if none
	BOS, EOS      Token
	FileSize      int64 // all parts of a split file
	WeightsSize   int64 // tensor data bytes
	Fetched       int64 // InspectRemote only: bytes downloaded to read the header
}

// Token is a special token.
type Token struct {
	ID   int64 // -1 when the file names none
	Text string
}

// HasChatTemplate reports whether the file embeds a Jinja chat template.
func (i Info) HasChatTemplate() bool { return i.ChatTemplate != "" }

// Inspect reads the header of a local GGUF (all parts of a split file).
func Inspect(path string) (Info, error) {
	if err := checkModel(path); err != nil {
		return Info{}, fmt.Errorf("inspect: %w", err)
	}
	info, err := parseInfo(path, path)
	if err != nil {
		return Info{}, fmt.Errorf("inspect: %w", err)
	}
	info.Path = path
	return info, nil
}

func infoOf(gf *parser.GGUFFile) Info {
	md := gf.Metadata()
	arch := gf.Architecture()
	tok := gf.Tokenizer()
	info := Info{
		Name:          md.Name,
		Arch:          md.Architecture,
		Params:        uint64(gf.ModelParameters),
		FileType:      strings.TrimPrefix(md.FileType.String(), "MOSTLY_"),
		BitsPerWeight: float64(gf.ModelBitsPerWeight),
		ContextLength: int(arch.MaximumContextLength),
		NLayer:        int(arch.BlockCount),
		NEmbd:         int(arch.EmbeddingLength),
		NHead:         int(arch.AttentionHeadCount),
		NHeadKV:       int(arch.AttentionHeadCountKV),
		NExpert:       int(arch.ExpertCount),
		FileSize:      int64(gf.Size),
		WeightsSize:   int64(gf.ModelSize),
		BOS:           Token{ID: tok.BOSTokenID},
		EOS:           Token{ID: tok.EOSTokenID},
	}
	if info.NHeadKV == 0 {
		info.NHeadKV = info.NHead // llama.cpp's default when the key is absent
	}
	for _, n := range arch.FeedForwardLength {
		info.NFF = max(info.NFF, int(n))
	}
	info.NVocab = int(max(arch.VocabularyLength, tok.TokensLength))
	switch {
	case arch.AttentionKeyLength > 0:
		info.HeadDim = int(arch.AttentionKeyLength)
	case info.NHead > 0:
		info.HeadDim = info.NEmbd / info.NHead
	}
	if kv, ok := gf.Header.MetadataKV.Get("tokenizer.chat_template"); ok && kv.ValueType == parser.GGUFMetadataValueTypeString {
		info.ChatTemplate = kv.ValueString()
	}
	if kv, ok := gf.Header.MetadataKV.Get("tokenizer.ggml.tokens"); ok && kv.ValueType == parser.GGUFMetadataValueTypeArray {
		av := kv.ValueArray()
		if av.Type == parser.GGUFMetadataValueTypeString && len(av.Array) > 0 {
			info.BOS.Text = tokenText(av.Array, tok.BOSTokenID)
			info.EOS.Text = tokenText(av.Array, tok.EOSTokenID)
		}
	}
	return info
}

func tokenText(tokens []any, id int64) string {
	if id < 0 || id >= int64(len(tokens)) {
		return ""
	}
	s, _ := tokens[id].(string)
	return s
}

// Memory is a RAM estimate for running a model.
type Memory struct {
	Context int   // tokens
	Weights int64 // tensor data, mapped or loaded
	KVCache int64 // f16 K and V for every layer
	Compute int64 // llama.cpp's compute buffer (the largest intermediate tensors of one batch)
	Total   int64
}

// Memory estimates weights, an f16 KV cache for ctx tokens (2 (K,V) * n_layer * ctx *
// n_head_kv * head_dim * 2 bytes) and llama.cpp's compute buffer for a 512-token batch with
// flash attention off: f32 tensors for the largest of the attention scores (ctx * n_head
// per token), the logits it reserves (n_vocab per token) and the feed-forward (3 * n_ff per
// token). Against llama.cpp's own report for TinyLlama and Mistral 7B shapes at 512 and
// 4096 tokens it is 0-11% low.
func (i Info) Memory(ctx int) Memory {
	if ctx <= 0 {
		ctx = i.ContextLength
	}
	kv := int64(2) * int64(i.NLayer) * int64(ctx) * int64(i.NHeadKV) * int64(i.HeadDim) * 2
	ub := int64(min(ctx, 512))
	perToken := max(int64(ctx)*int64(i.NHead)+3*int64(i.NEmbd), int64(i.NVocab+i.NEmbd), int64(3*i.NFF+2*i.NEmbd))
	compute := 4 * ub * perToken
	return Memory{Context: ctx, Weights: i.WeightsSize, KVCache: kv, Compute: compute, Total: i.WeightsSize + kv + compute}
}
