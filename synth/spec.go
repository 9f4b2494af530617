package synth

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Architectures (general.architecture values) this package can write.
const (
	ArchLlama  = "llama"
	ArchFalcon = "falcon"
	ArchOLMo   = "olmo"
	ArchOLMo2  = "olmo2"
	ArchQwen2  = "qwen2"
)

// Spec describes a model to write. Zero values of the optional fields get
// defaults (see withDefaults); Tiny and Shape return filled-in Specs.
type Spec struct {
	Arch string // ArchLlama, ArchFalcon, ArchOLMo, ArchOLMo2 or ArchQwen2
	Name string // general.name

	NEmbd   int
	NLayer  int
	NHead   int
	NHeadKV int // 0: same as NHead
	NFF     int
	NVocab  int // 0: just the built-in vocabulary; otherwise padded with filler tokens to this size
	NCtx    int // training context length

	// Mixture of experts (llama only, Mixtral style): ffn_gate_inp plus
	// ffn_{gate,down,up}_exps instead of the dense feed-forward tensors.
	NExpert     int
	NExpertUsed int

	RopeTheta float32 // 0: 10000
	NormEps   float32 // layer-norm or RMS-norm epsilon; 0: 1e-5

	// TiedEmbeddings leaves out output.weight; llama.cpp then reuses token_embd.
	TiedEmbeddings bool
	// FalconNorm2 gives each falcon layer attn_norm_2 (Falcon-40B's separate
	// norm for the MLP branch); Falcon-7B has only attn_norm.
	FalconNorm2 bool

	// FileType picks every tensor's type the way llama-quantize does for that
	// mix. Pure gives every quantizable tensor FileType's default type instead
	// (llama-quantize --pure).
	FileType FileType
	Pure     bool

	Seed      uint64  // weights are a deterministic function of the Spec and Seed
	WeightStd float32 // standard deviation of random weights; 0: 0.02

	ChatTemplate string   // tokenizer.chat_template, if not empty
	ExtraSpecial []string // extra CONTROL tokens, e.g. "[INST]", "<|im_start|>"
	Pre          string   // BPE pre-tokenizer (tokenizer.ggml.pre); "": the arch's usual one
}

// tinyNames lists the names Tiny accepts, in a stable order for messages.
var tinyNames = []string{"llama", "mixtral", "falcon", "falcon-40b", "olmo", "olmo2", "qwen2"}

// Tiny returns a small model (a few hundred KB) of the named kind: an
// architecture name, or "mixtral" (llama with 4 experts, 2 used) or
// "falcon-40b" (falcon with grouped KV heads and attn_norm_2). Weights are F32.
func Tiny(name string) (Spec, error) {
	s := Spec{
		Name: "synth-tiny-" + name, NEmbd: 64, NLayer: 2, NHead: 4, NHeadKV: 2,
		NFF: 128, NCtx: 256, FileType: FileTypeF32, Seed: 1,
	}
	switch name {
	case ArchLlama, ArchOLMo, ArchOLMo2, ArchQwen2:
		s.Arch = name
	case "mixtral":
		s.Arch, s.NExpert, s.NExpertUsed = ArchLlama, 4, 2
	case ArchFalcon:
		s.Arch, s.NHeadKV = ArchFalcon, 1
	case "falcon-40b":
		s.Arch, s.FalconNorm2 = ArchFalcon, true
	default:
		return Spec{}, fmt.Errorf("no tiny model %q (have %s)", name, strings.Join(tinyNames, ", "))
	}
	return s, nil
}

// shapes are real models' hyperparameters, from their config.json files.
func shapes() map[string]Spec {
	llama := func(name string, embd, layers, heads, kv, ff, ctx int, theta float32) Spec {
		return Spec{Arch: ArchLlama, Name: name, NEmbd: embd, NLayer: layers, NHead: heads, NHeadKV: kv,
			NFF: ff, NVocab: 32000, NCtx: ctx, RopeTheta: theta, NormEps: 1e-5}
	}
	mixtral := llama("Mixtral-8x7B", 4096, 32, 32, 8, 14336, 32768, 1e6)
	mixtral.NExpert, mixtral.NExpertUsed = 8, 2
	return map[string]Spec{
		"tinyllama-1.1b": llama("TinyLlama-1.1B", 2048, 22, 32, 4, 5632, 2048, 10000),
		"llama2-7b":      llama("Llama-2-7B", 4096, 32, 32, 32, 11008, 4096, 10000),
		"llama2-13b":     llama("Llama-2-13B", 5120, 40, 40, 40, 13824, 4096, 10000),
		"mistral-7b":     llama("Mistral-7B", 4096, 32, 32, 8, 14336, 32768, 10000),
		"mixtral-8x7b":   mixtral,
		"llama-pro-8b":   llama("LLaMA-Pro-8B", 4096, 40, 32, 32, 11008, 4096, 10000),
		"falcon-7b": {Arch: ArchFalcon, Name: "Falcon-7B", NEmbd: 4544, NLayer: 32, NHead: 71, NHeadKV: 1,
			NFF: 18176, NVocab: 65024, NCtx: 2048, NormEps: 1e-5},
		"falcon-40b": {Arch: ArchFalcon, Name: "Falcon-40B", NEmbd: 8192, NLayer: 60, NHead: 128, NHeadKV: 8,
			NFF: 32768, NVocab: 65024, NCtx: 2048, NormEps: 1e-5, FalconNorm2: true},
		"olmo-7b": {Arch: ArchOLMo, Name: "OLMo-7B", NEmbd: 4096, NLayer: 32, NHead: 32, NHeadKV: 32,
			NFF: 11008, NVocab: 50304, NCtx: 2048, NormEps: 1e-5},
		"olmo2-7b": {Arch: ArchOLMo2, Name: "OLMo-2-1124-7B", NEmbd: 4096, NLayer: 32, NHead: 32, NHeadKV: 32,
			NFF: 11008, NVocab: 100352, NCtx: 4096, RopeTheta: 500000, NormEps: 1e-6},
		"llama2-70b": llama("Llama-2-70B", 8192, 80, 64, 8, 28672, 4096, 10000),
		"smollm2-360m": {Arch: ArchLlama, Name: "SmolLM2-360M", NEmbd: 960, NLayer: 32, NHead: 15, NHeadKV: 5,
			NFF: 2560, NVocab: 49152, NCtx: 8192, RopeTheta: 100000, NormEps: 1e-5, TiedEmbeddings: true},
	}
}

// Shape returns a Spec with the tensor shapes of a real model family (see
// ShapeNames), written as F16 unless the caller changes FileType.
func Shape(family string) (Spec, bool) {
	s, ok := shapes()[family]
	if !ok {
		return Spec{}, false
	}
	s.FileType, s.Seed = FileTypeF16, 1
	return s, true
}

// ShapeNames lists the families Shape knows, sorted.
func ShapeNames() []string {
	names := make([]string, 0, len(shapes()))
	for n := range shapes() {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// withDefaults fills the optional fields.
func (s Spec) withDefaults() Spec {
	if s.NHeadKV == 0 {
		s.NHeadKV = s.NHead
	}
	if s.RopeTheta == 0 {
		s.RopeTheta = 10000
	}
	if s.NormEps == 0 {
		s.NormEps = 1e-5
	}
	if s.WeightStd == 0 {
		s.WeightStd = 0.02
	}
	if s.Name == "" {
		s.Name = "synth-" + s.Arch
	}
	if s.Pre == "" {
		s.Pre = defaultPre(s.Arch)
	}
	return s
}

// validate rejects Specs llama.cpp would refuse or that the tensor layout
// cannot express. It expects withDefaults to have run.
func (s Spec) validate() error {
	switch s.Arch {
	case ArchLlama, ArchFalcon, ArchOLMo, ArchOLMo2, ArchQwen2:
	default:
		return fmt.Errorf("unsupported architecture %q", s.Arch)
	}
	for _, d := range []struct {
		name string
		v    int
	}{{"NEmbd", s.NEmbd}, {"NLayer", s.NLayer}, {"NHead", s.NHead}, {"NHeadKV", s.NHeadKV}, {"NFF", s.NFF}, {"NCtx", s.NCtx}} {
		if d.v <= 0 {
			return fmt.Errorf("%s must be positive, got %d", d.name, d.v)
		}
	}
	if s.NVocab < 0 {
		return fmt.Errorf("NVocab must not be negative, got %d", s.NVocab)
	}
	if s.NEmbd%s.NHead != 0 {
		return fmt.Errorf("NEmbd %d is not a multiple of NHead %d", s.NEmbd, s.NHead)
	}
	if s.NHead%s.NHeadKV != 0 {
		return fmt.Errorf("NHead %d is not a multiple of NHeadKV %d", s.NHead, s.NHeadKV)
	}
	if s.NExpert != 0 || s.NExpertUsed != 0 {
		if s.Arch != ArchLlama {
			return fmt.Errorf("experts are only supported for %s, not %s", ArchLlama, s.Arch)
		}
		// llama.cpp asserts 0 < n_expert_used <= n_expert <= LLAMA_MAX_EXPERTS.
		if s.NExpert < 2 || s.NExpert > 512 || s.NExpertUsed < 1 || s.NExpertUsed > s.NExpert {
			return fmt.Errorf("bad expert counts: %d experts, %d used", s.NExpert, s.NExpertUsed)
		}
	}
	if s.FalconNorm2 && s.Arch != ArchFalcon {
		return fmt.Errorf("FalconNorm2 is only for %s", ArchFalcon)
	}
	if s.Arch == ArchOLMo2 && s.TiedEmbeddings {
		return fmt.Errorf("%s requires output.weight; TiedEmbeddings is not supported", ArchOLMo2)
	}
	if _, err := s.FileType.DefaultType(); err != nil {
		return err
	}
	if s.WeightStd < 0 {
		return fmt.Errorf("WeightStd must not be negative")
	}
	return nil
}

// ChatML is the ChatML template, as Qwen and SmolLM ship it.
const ChatML = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"

// TinyChat is Tiny(arch) carrying the ChatML template and its two control tokens, with a
// 4096-token trained context: the chat tests' model (engine sessions, the REPL).
func TinyChat(arch string) (Spec, error) {
	spec, err := Tiny(arch)
	if err != nil {
		return spec, err
	}
	spec.NCtx = 4096
	spec.ChatTemplate = ChatML
	spec.ExtraSpecial = []string{"<|im_start|>", "<|im_end|>"}
	return spec, nil
}

// WriteTinyChat writes TinyChat(arch) to path; a chatTemplate other than "" replaces
// ChatML (a real model's Jinja, for the tool-call tests) and special adds control tokens
// to ChatML's two (Mistral's [INST], [TOOL_CALLS], ...).
func WriteTinyChat(ctx context.Context, path, arch, chatTemplate string, special ...string) error {
	spec, err := TinyChat(arch)
	if err != nil {
		return err
	}
	if chatTemplate != "" {
		spec.ChatTemplate = chatTemplate
	}
	spec.ExtraSpecial = append(spec.ExtraSpecial, special...)
	return Write(ctx, path, spec, nil)
}
