package gguf

import (
	"fmt"
	"math"
	"strings"
)

// want is the value a well-known key must hold. llama.cpp reads these keys with typed
// getters that throw or assert on another type, and gguf-parser-go's accessors panic on
// one, so the check refuses a mistyped key before either sees it.
type want int

const (
	wString      want = iota
	wU32              // exactly u32: gguf_get_val_u32 asserts it, the parser's ValueUint32 panics
	wBool             // the parser's ValueBool panics on another type
	wNumber           // any numeric type
	wNumberOrArr      // a number, or a non-empty array of numbers (per-layer values)
	wNumberOrAny      // a number, or an array of anything (a per-layer pattern)
	wStrings          // an array of strings (gguf_get_arr_str asserts it)
	wArray            // any array
)

// wantOf returns what key must hold in a file of architecture arch, and false for keys the
// check has no opinion on: the global keys llama.cpp or gguf-parser-go read, and the keys
// under "ARCH." that the parser's architecture reader reads (llama.cpp's names). Switches
// rather than tables, so the package holds no mutable state.
func wantOf(key, arch string) (want, bool) {
	switch key {
	case "general.architecture", "general.type", "general.name", "general.author", "general.url",
		"general.description", "general.license", "tokenizer.ggml.model", "tokenizer.ggml.pre",
		"tokenizer.chat_template":
		return wString, true
	case "general.alignment", "general.file_type":
		return wU32, true
	case "general.quantization_version", "split.count", "split.no", "split.tensors.count",
		"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id",
		"tokenizer.ggml.eom_token_id", "tokenizer.ggml.unknown_token_id",
		"tokenizer.ggml.separator_token_id", "tokenizer.ggml.padding_token_id":
		return wNumber, true
	case "tokenizer.ggml.tokens", "tokenizer.ggml.merges":
		return wStrings, true
	case "tokenizer.ggml.added_tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type":
		return wArray, true
	}
	rest, ok := strings.CutPrefix(key, arch+".")
	if !ok || arch == "" {
		return 0, false
	}
	switch rest {
	case "feed_forward_length", "attention.head_count", "attention.head_count_kv", "attention.sliding_window":
		return wNumberOrArr, true
	case "attention.sliding_window_pattern":
		return wNumberOrAny, true
	case "attention.causal", "rope.scaling.finetuned":
		return wBool, true
	case "rope.scaling.type":
		return wString, true
	case "pooling_type":
		return wU32, true
	case "context_length", "embedding_length", "block_count", "expert_feed_forward_length",
		"expert_shared_feed_forward_length", "expert_count", "expert_used_count", "expert_shared_count",
		"attention.key_length_swa", "attention.value_length_swa", "attention.shared_kv_layers",
		"nextn_predict_layers", "attention.max_alibi_bias", "attention.alibi_bias_max",
		"attention.clamp_kqv", "attention.clip_kqv", "attention.layer_norm_epsilon",
		"attention.layer_norm_rms_epsilon", "attention.q_lora_rank", "attention.kv_lora_rank",
		"attention.key_length", "attention.key_length_mla", "attention.value_length",
		"attention.value_length_mla", "rope.dimension_count", "rope.freq_base", "rope.freq_scale",
		"rope.scale_linear", "rope.scaling.factor", "rope.scaling.original_context_length",
		"full_attention_interval", "ssm.conv_kernel", "ssm.inner_size", "ssm.state_size",
		"ssm.time_step_rank", "ssm.group_count", "shortconv.l_cache", "kda.head_dim",
		"wkv.head_size", "rescale_every_n_layers", "time_mix_extra_dim", "time_decay_extra_dim",
		"token_shift_count", "vocab_size":
		return wNumber, true
	}
	return 0, false
}

func (e kv) holds(w want) bool {
	switch w {
	case wString:
		return e.typ == tString
	case wU32:
		return e.typ == tUint32
	case wBool:
		return e.typ == tBool
	case wNumber:
		return isNumeric(e.typ)
	case wNumberOrArr:
		return isNumeric(e.typ) || (e.typ == tArray && isNumeric(e.elem) && e.n > 0)
	case wNumberOrAny:
		return isNumeric(e.typ) || e.typ == tArray
	case wStrings:
		return e.typ == tArray && e.elem == tString
	case wArray:
		return e.typ == tArray
	}
	return false
}

func (w want) String() string {
	switch w {
	case wString:
		return "a string"
	case wU32:
		return "a u32"
	case wBool:
		return "a bool"
	case wNumber:
		return "a number"
	case wNumberOrArr:
		return "a number or a non-empty array of numbers"
	case wNumberOrAny:
		return "a number or an array"
	case wStrings:
		return "an array of strings"
	}
	return "an array"
}

func (e kv) describe() string {
	if e.typ == tArray {
		return "an array of " + typeName(e.elem)
	}
	return "type " + typeName(e.typ)
}

// integer returns an integer scalar's value, signed types sign-extended.
func (e kv) integer() (int64, bool) {
	switch e.typ {
	case tUint8, tUint16, tUint32:
		return int64(e.num), true
	case tUint64:
		if e.num > math.MaxInt64 {
			return 0, false
		}
		return int64(e.num), true
	case tInt8:
		return int64(int8(e.num)), true
	case tInt16:
		return int64(int16(e.num)), true
	case tInt32:
		return int64(int32(e.num)), true
	case tInt64:
		return int64(e.num), true
	}
	return 0, false
}

// checkKeys checks the metadata as a whole and fills in h's architecture, alignment and split
// count.
func checkKeys(h *Header, kvs map[string]kv, order []string) error {
	a, ok := kvs["general.architecture"]
	if !ok {
		return kindErr(ErrCorrupt, "the file names no architecture (general.architecture is missing); the file is damaged or not a model")
	}
	if a.typ != tString || strings.TrimSpace(a.str) == "" {
		return kindErr(ErrCorrupt, "general.architecture holds %s, not an architecture name; the file is damaged", a.describe())
	}
	h.Architecture = a.str
	for _, key := range order {
		e := kvs[key]
		if w, ok := wantOf(key, h.Architecture); ok && !e.holds(w) {
			return kindErr(ErrCorrupt, "metadata key %q holds %s, but llama.cpp reads %s there; the file is damaged", key, e.describe(), w)
		}
	}
	for _, key := range []string{"general.architecture", "tokenizer.ggml.model", "tokenizer.ggml.pre", h.Architecture + ".rope.scaling.type"} {
		if e, ok := kvs[key]; ok && e.str != strings.TrimSpace(e.str) {
			return kindErr(ErrCorrupt, "metadata key %q is %q, with spaces around the name; llama.cpp reads it as written and knows no such name; the file is damaged", key, e.str)
		}
	}
	if t, ok := kvs["general.type"]; ok && strings.TrimSpace(t.str) != "model" {
		return kindErr(ErrUnsupported, "the file is a %q (general.type), not a language model; olm runs models", t.str)
	}
	switch {
	case h.Architecture == "clip":
		return kindErr(ErrUnsupported, "the file is a vision projector (architecture clip), not a language model; olm runs models")
	case h.Architecture == "controlvector" || has(kvs, "controlvector.model_hint"):
		return kindErr(ErrUnsupported, "the file is a control vector, not a language model; olm runs models")
	}
	if e, ok := kvs["general.alignment"]; ok {
		al := e.num
		if al == 0 || al&(al-1) != 0 || al > maxAlignment {
			return kindErr(ErrCorrupt, "general.alignment is %d, not a power of 2 up to %d; the file is damaged", al, maxAlignment)
		}
		// A smaller one puts tensors off the 32-byte boundaries ggml asserts on when it
		// maps the file (FuzzLoadHparams found it).
		if al < defaultAlign {
			return kindErr(ErrCorrupt, "general.alignment is %d; llama.cpp maps tensors on %d-byte boundaries and needs %d or a larger power of 2; the file is damaged", al, defaultAlign, defaultAlign)
		}
		h.Alignment = int64(al)
	}
	if e, ok := kvs[h.Architecture+".block_count"]; ok {
		// llama.cpp aborts (not throws) on a model without layers.
		if n, ok := e.integer(); !ok || n < 1 || n > maxLayers {
			return kindErr(ErrCorrupt, "%s.block_count is not a layer count from 1 to %d; the file is damaged", h.Architecture, maxLayers)
		}
	}
	if err := checkHparams(h.Architecture, kvs); err != nil {
		return err
	}
	if e, ok := kvs["split.tensors.count"]; ok {
		if n, ok := e.integer(); !ok || n < 0 || n > maxTensors {
			return kindErr(ErrCorrupt, "split.tensors.count is not a tensor count from 0 to %d; the file is damaged", maxTensors)
		}
	}
	if e, ok := kvs["split.count"]; ok {
		n, ok := e.integer()
		if !ok || n < 0 || n > math.MaxUint16 {
			return kindErr(ErrCorrupt, "split.count is not a part count from 0 to %d; the file is damaged", math.MaxUint16)
		}
		h.SplitCount = int(n)
	}
	// llama.cpp reads one score and one token type per token, straight from the arrays.
	if tok, ok := kvs["tokenizer.ggml.tokens"]; ok {
		for _, c := range []struct {
			key  string
			elem uint32
		}{{"tokenizer.ggml.scores", tFloat32}, {"tokenizer.ggml.token_type", tInt32}} {
			key, elem := c.key, c.elem
			if e, ok := kvs[key]; ok && (e.elem != elem || e.n < tok.n) {
				return kindErr(ErrCorrupt, "%s is %d %s values for %d tokens; llama.cpp needs one %s per token; the file is damaged",
					key, e.n, typeName(e.elem), tok.n, typeName(elem))
			}
		}
	}
	return nil
}

func has(kvs map[string]kv, key string) bool { _, ok := kvs[key]; return ok }

// checkHparams refuses the values llama.cpp asserts on (an abort of the whole process, not
// an error) while it loads a model or builds its first graph: the expert counts
// llama_model::load_hparams checks, an unknown RoPE scaling type, and a norm epsilon that
// ggml's norms assert is not negative.
func checkHparams(arch string, kvs map[string]kv) error {
	count := func(key string) (int64, error) {
		e, ok := kvs[arch+"."+key]
		if !ok {
			return 0, nil
		}
		n, ok := e.integer()
		if !ok || n < 0 || n > math.MaxUint32 {
			return 0, kindErr(ErrCorrupt, "%s.%s is not a count (%s); the file is damaged", arch, key, e.describe())
		}
		return n, nil
	}
	var n [4]int64
	for i, key := range []string{"expert_count", "expert_used_count", "expert_group_count", "expert_group_used_count"} {
		var err error
		if n[i], err = count(key); err != nil {
			return err
		}
	}
	experts, used, groups, groupsUsed := n[0], n[1], n[2], n[3]
	bad := func(why string) error {
		return kindErr(ErrCorrupt, "%s's experts do not add up (%d experts, %d used, %d groups, %d groups used): %s; the file is damaged",
			arch, experts, used, groups, groupsUsed, why)
	}
	switch {
	case experts > maxExperts:
		return bad(fmt.Sprintf("llama.cpp allows up to %d experts", maxExperts))
	case used > experts:
		return bad("more used than there are")
	case experts > 0 && used == 0:
		return bad("none used")
	case experts > 0 && groups >= experts:
		return bad("as many groups as experts")
	case experts > 0 && groups > 1 && (experts%groups != 0 || groupsUsed == 0 || groupsUsed >= groups):
		return bad("the groups do not split the experts")
	case experts == 0 && groups != 0:
		return bad("groups without experts")
	}
	// Attention models divide by the head count while they lay out their tensors (OLMo2:
	// n_embd / n_head, a SIGFPE at 0); only the recurrent ones have none. Per-layer arrays
	// (hybrids, with 0 for their recurrent layers) are left to llama.cpp.
	if e, ok := kvs[arch+".attention.head_count"]; ok && e.typ != tArray && !recurrent(arch) {
		heads, _ := e.integer()
		if heads == 0 {
			return kindErr(ErrCorrupt, "%s.attention.head_count is 0, and a %s model needs attention heads; the file is damaged", arch, arch)
		}
		// Without an explicit head size llama.cpp takes n_embd / n_head, and a remainder
		// leaves the attention graph's shapes unequal (a GGML_ASSERT; Falcon, 64 / 48).
		if emb, ok := kvs[arch+".embedding_length"]; ok && !has(kvs, arch+".attention.key_length") {
			if n, ok := emb.integer(); ok && n%heads != 0 {
				return kindErr(ErrCorrupt, "%s has an embedding of %d and %d attention heads, which do not divide it, and no attention.key_length; the file is damaged", arch, n, heads)
			} else if ok && n/heads < 2 {
				// Heads of one value each: ggml's attention asserts on the shapes (Falcon).
				return kindErr(ErrCorrupt, "%s has an embedding of %d and %d attention heads: heads of %d value; the file is damaged", arch, n, heads, n/heads)
			}
		}
		// Grouped-query attention shares each KV head among a whole number of query heads;
		// ggml asserts on the shapes otherwise (found on Falcon: 59 heads, 16 KV heads).
		if kv, ok := kvs[arch+".attention.head_count_kv"]; ok && kv.typ != tArray {
			if n, _ := kv.integer(); n > 0 && heads%n != 0 {
				return kindErr(ErrCorrupt, "%s has %d attention heads and %d KV heads, which do not divide them; the file is damaged", arch, heads, n)
			}
		}
	}
	if e, ok := kvs[arch+".rope.scaling.type"]; ok {
		switch e.str {
		case "none", "linear", "yarn", "longrope":
		default:
			return kindErr(ErrCorrupt, "%s.rope.scaling.type is %q; llama.cpp knows none, linear, yarn and longrope; the file is damaged", arch, e.str)
		}
	}
	for _, key := range []string{"attention.layer_norm_epsilon", "attention.layer_norm_rms_epsilon", "attention.group_norm_epsilon"} {
		if e, ok := kvs[arch+"."+key]; ok {
			if v, ok := e.float(); !ok || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				return kindErr(ErrCorrupt, "%s.%s is %v; llama.cpp needs a finite number 0 or above; the file is damaged", arch, key, v)
			}
		}
	}
	return nil
}

// float returns a numeric scalar's value as a float64.
func (e kv) float() (float64, bool) {
	switch e.typ {
	case tFloat32:
		return float64(math.Float32frombits(uint32(e.num))), true
	case tFloat64:
		return math.Float64frombits(e.num), true
	}
	n, ok := e.integer()
	return float64(n), ok
}

// recurrent reports an architecture without attention heads (llama.cpp's
// llm_arch_is_recurrent).
func recurrent(arch string) bool {
	switch arch {
	case "mamba", "mamba2", "rwkv6", "rwkv6qwen2", "rwkv7", "arwkv7":
		return true
	}
	return false
}
