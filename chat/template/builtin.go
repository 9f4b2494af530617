package template

import (
	"fmt"
	"sort"
	"strings"
)

// Builtin is a prompt format written in Go, for models whose GGUF carries
// no chat template or a wrong one.
type Builtin struct {
	name    string
	summary string
	stops   []string
	bos     bool // the format writes the BOS token itself
	render  func(b *builder, msgs []Message, addGen bool) error
}

// Name implements Template.
func (t *Builtin) Name() string { return t.name }

// Summary is a one-line description of the format.
func (t *Builtin) Summary() string { return t.summary }

// Stops implements Template.
func (t *Builtin) Stops() []string { return append([]string(nil), t.stops...) }

// Render implements Template.
func (t *Builtin) Render(msgs []Message, addGenerationPrompt bool) (Prompt, error) {
	var b builder
	if err := t.render(&b, msgs, addGenerationPrompt); err != nil {
		return Prompt{}, fmt.Errorf("render %s: %w", t.name, err)
	}
	return Prompt{Parts: b.parts, HasBOS: t.bos}, nil
}

// Default system prompts the models were trained with.
const (
	elyzaSystem    = "あなたは誠実で優秀な日本人のアシスタントです。"
	openmathSystem = "You're an expert Python programmer and mathematician. Help the user to solve this problem using code when necessary. Make sure to put the answer (and only answer) inside \\boxed{}."
)

// registry builds the registry afresh on each call, so nothing global can
// be modified.
func registry() map[string]*Builtin {
	return map[string]*Builtin{
		"llama2": {name: "llama2", bos: true, stops: []string{"</s>", "[INST]"},
			summary: "Llama 2 chat: <s>[INST] <<SYS>>\\n{system}\\n<</SYS>>\\n\\n{user} [/INST] {answer} </s>",
			render:  renderLlama2("")},
		"elyza": {name: "elyza", bos: true, stops: []string{"</s>", "[INST]"},
			summary: "ELYZA: Llama 2 chat with a default Japanese system prompt",
			render:  renderLlama2(elyzaSystem)},
		"mistral-instruct": {name: "mistral-instruct", bos: true, stops: []string{"</s>", "[INST]"},
			summary: "Mistral/Mixtral Instruct: <s>[INST] {system}\\n\\n{user} [/INST]{answer}</s>",
			render:  renderMistral},
		"zephyr": {name: "zephyr", stops: []string{"</s>", "<|user|>"},
			summary: "Zephyr/TinyLlama: <|system|>\\n{system}</s>\\n<|user|>\\n{user}</s>\\n<|assistant|>\\n",
			render:  renderZephyr},
		"chatml": {name: "chatml", stops: []string{"<|im_end|>", "<|im_start|>", "<|endoftext|>"},
			summary: "ChatML: <|im_start|>{role}\\n{text}<|im_end|>\\n ... <|im_start|>assistant\\n",
			render:  renderChatML},
		"tulu": {name: "tulu", bos: true, stops: []string{"<|endoftext|>", "<|user|>"},
			summary: "Tulu (OLMo-2): <|endoftext|><|user|>\\n{user}\\n<|assistant|>\\n",
			render:  renderTulu},
		"oasst": {name: "oasst", stops: []string{"<|endoftext|>", "<|prompter|>"},
			summary: "OpenAssistant: <|prompter|>{user}<|endoftext|><|assistant|>",
			render:  renderTurns(oasstMarks, "")},
		"gpt4all": {name: "gpt4all", stops: []string{"### Instruction:", "<|endoftext|>"},
			summary: "GPT4All (Alpaca style): ### Instruction:\\n{user}\\n\\n### Response:\\n",
			render:  renderTurns(gpt4allMarks, "")},
		"falcon": {name: "falcon", stops: []string{"\nUser:", "<|endoftext|>"},
			summary: "Falcon Instruct (community convention): User: {user}\\nAssistant:",
			render:  renderTurns(falconMarks, "")},
		"openmath": {name: "openmath", stops: []string{"\nUser:", "</s>"},
			summary: "OpenMath: System: {system}\\n\\nUser: {problem}\\n\\nAssistant:",
			render:  renderTurns(openmathMarks, openmathSystem)},
		"none": {name: "none",
			summary: "plain completion for base models: the message contents, concatenated",
			render:  renderNone},
	}
}

// aliases maps the catalog's prompt-format codes and common spellings to
// built-in names.
func aliases() map[string]string {
	return map[string]string{
		"l2": "llama2", "llama-2": "llama2", "llama2-chat": "llama2",
		"inst": "mistral-instruct", "mistral": "mistral-instruct", "mixtral": "mistral-instruct",
		"g4a": "gpt4all", "alpaca": "gpt4all",
		"math": "openmath", "olmo2": "tulu", "tinyllama": "zephyr",
		"raw": "none", "completion": "none",
	}
}

// LookupBuiltin finds a built-in template by name or alias, ignoring case.
func LookupBuiltin(name string) (*Builtin, bool) {
	key := strings.ToLower(strings.TrimSpace(name))
	if alias, ok := aliases()[key]; ok {
		key = alias
	}
	t, ok := registry()[key]
	return t, ok
}

// BuiltinNames lists the built-in templates, sorted.
func BuiltinNames() []string {
	names := make([]string, 0, len(registry()))
	for n := range registry() {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
