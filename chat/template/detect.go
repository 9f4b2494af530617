package template

import "strings"

// detectFamily recognises a built-in format from a Jinja template's text
// (markers are checked most specific first) or, failing that, from the
// architecture. It returns "" when nothing matches.
func detectFamily(jinja, arch string) (name, why string) {
	markers := []struct{ marker, name string }{
		{"<|im_start|>", "chatml"},
		{"あなたは誠実で優秀な日本人のアシスタントです", "elyza"},
		{"<<SYS>>", "llama2"},
		{"[INST]", "mistral-instruct"},
		{"<|prompter|>", "oasst"},
		{"### Instruction", "gpt4all"},
	}
	for _, m := range markers {
		if strings.Contains(jinja, m.marker) {
			return m.name, "the GGUF's chat template contains " + m.marker
		}
	}
	if strings.Contains(jinja, "<|user|>") && strings.Contains(jinja, "<|assistant|>") {
		// Tulu ends user turns with a newline, Zephyr with </s>; only Tulu
		// treats the last assistant turn specially.
		if strings.Contains(jinja, "not loop.last") || strings.Contains(jinja, "<|endoftext|>") {
			return "tulu", "the GGUF's chat template uses <|user|>/<|assistant|> turns in Tulu style"
		}
		return "zephyr", "the GGUF's chat template uses <|user|>/<|assistant|> turns in Zephyr style"
	}
	byArch := map[string]string{
		"falcon": "falcon",
		"olmo2":  "tulu",
		"qwen2":  "chatml",
	}
	if name, ok := byArch[strings.ToLower(arch)]; ok {
		return name, "architecture " + arch + " usually uses this format"
	}
	return "", ""
}
