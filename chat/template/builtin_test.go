package template

import (
	"strings"
	"testing"
)

// TestBuiltinGolden pins every built-in's exact text for the shared
// system + user + assistant + user conversation, ready for the answer.
func TestBuiltinGolden(t *testing.T) {
	cases := []struct {
		name, conv, want string
		bos              bool
	}{
		{"llama2", "sys", "<s>[INST] <<SYS>>\nYou are a terse assistant.\n<</SYS>>\n\nHello! [/INST] Hi. How can I help? </s><s>[INST] What is 2+2? [/INST]", true},
		{"llama2", "nosys", "<s>[INST] Hello! [/INST] Hi. How can I help? </s><s>[INST] What is 2+2? [/INST]", true},
		{"elyza", "sys", "<s>[INST] <<SYS>>\nYou are a terse assistant.\n<</SYS>>\n\nHello! [/INST] Hi. How can I help? </s><s>[INST] What is 2+2? [/INST]", true},
		{"elyza", "nosys", "<s>[INST] <<SYS>>\nあなたは誠実で優秀な日本人のアシスタントです。\n<</SYS>>\n\nHello! [/INST] Hi. How can I help? </s><s>[INST] What is 2+2? [/INST]", true},
		{"mistral-instruct", "sys", "<s>[INST] You are a terse assistant.\n\nHello! [/INST]Hi. How can I help?</s>[INST] What is 2+2? [/INST]", true},
		{"zephyr", "sys", "<|system|>\nYou are a terse assistant.</s>\n<|user|>\nHello!</s>\n<|assistant|>\nHi. How can I help?</s>\n<|user|>\nWhat is 2+2?</s>\n<|assistant|>\n", false},
		{"chatml", "sys", "<|im_start|>system\nYou are a terse assistant.<|im_end|>\n<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\nHi. How can I help?<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n", false},
		{"tulu", "sys", "<|endoftext|><|system|>\nYou are a terse assistant.\n<|user|>\nHello!\n<|assistant|>\nHi. How can I help?<|endoftext|>\n<|user|>\nWhat is 2+2?\n<|assistant|>\n", true},
		{"oasst", "sys", "<|system|>You are a terse assistant.<|endoftext|><|prompter|>Hello!<|endoftext|><|assistant|>Hi. How can I help?<|endoftext|><|prompter|>What is 2+2?<|endoftext|><|assistant|>", false},
		{"gpt4all", "sys", "You are a terse assistant.\n\n### Instruction:\nHello!\n\n### Response:\nHi. How can I help?\n\n### Instruction:\nWhat is 2+2?\n\n### Response:\n", false},
		{"gpt4all", "nosys", "### Instruction:\nHello!\n\n### Response:\nHi. How can I help?\n\n### Instruction:\nWhat is 2+2?\n\n### Response:\n", false},
		{"falcon", "sys", "System: You are a terse assistant.\nUser: Hello!\nAssistant: Hi. How can I help?\nUser: What is 2+2?\nAssistant:", false},
		{"falcon", "nosys", "User: Hello!\nAssistant: Hi. How can I help?\nUser: What is 2+2?\nAssistant:", false},
		{"openmath", "sys", "System: You are a terse assistant.\n\nUser: Hello!\n\nAssistant: Hi. How can I help?\n\nUser: What is 2+2?\n\nAssistant:", false},
		{"openmath", "nosys", "System: " + openmathSystem + "\n\nUser: Hello!\n\nAssistant: Hi. How can I help?\n\nUser: What is 2+2?\n\nAssistant:", false},
		{"none", "sys", "You are a terse assistant.Hello!Hi. How can I help?What is 2+2?", false},
	}
	covered := map[string]bool{}
	for _, c := range cases {
		covered[c.name] = true
		t.Run(c.name+"/"+c.conv, func(t *testing.T) {
			tmpl, ok := LookupBuiltin(c.name)
			if !ok {
				t.Fatalf("no built-in %q", c.name)
			}
			p, err := tmpl.Render(conversations[c.conv], true)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.String(); got != c.want {
				t.Fatalf("got  %q\nwant %q", got, c.want)
			}
			if p.HasBOS != c.bos {
				t.Errorf("HasBOS = %v, want %v", p.HasBOS, c.bos)
			}
			for _, m := range conversations[c.conv] {
				if !hasLiteral(p, m.Content) {
					t.Errorf("content %q not in a literal part: %#v", m.Content, p.Parts)
				}
			}
		})
	}
	for _, n := range BuiltinNames() {
		if !covered[n] {
			t.Errorf("built-in %q has no golden case", n)
		}
	}
}

// TestBuiltinMatchesRealTemplate checks built-ins against what the real
// Jinja template of the same family renders (HF goldens), where the two
// are meant to agree.
func TestBuiltinMatchesRealTemplate(t *testing.T) {
	pairs := []struct {
		builtin, real string
		convs         []string
	}{
		{"llama2", "llama2-chat", []string{"sys", "nosys", "spaces"}},
		{"mistral-instruct", "mixtral-instruct-2023", []string{"nosys", "spaces"}},
		{"mistral-instruct", "mistral-v0.2-2023", []string{"nosys", "spaces"}},
		{"zephyr", "zephyr", []string{"sys", "nosys", "spaces"}},
		{"chatml", "chatml", []string{"sys", "nosys", "spaces"}},
		{"chatml", "smollm2", []string{"sys"}},
		{"chatml", "qwen2.5", []string{"sys"}},
		{"tulu", "olmo2-instruct", []string{"sys", "nosys", "spaces"}},
	}
	for _, pr := range pairs {
		for _, conv := range pr.convs {
			t.Run(pr.builtin+"="+pr.real+"/"+conv, func(t *testing.T) {
				want, isErr := readGolden(t, pr.real, conv)
				if isErr {
					t.Fatalf("golden %s.%s is an error", pr.real, conv)
				}
				tmpl, _ := LookupBuiltin(pr.builtin)
				p, err := tmpl.Render(conversations[conv], true)
				if err != nil {
					t.Fatal(err)
				}
				if got := p.String(); got != want {
					t.Fatalf("got  %q\nwant %q", got, want)
				}
			})
		}
	}
}

func TestBuiltinMultiTurnConventions(t *testing.T) {
	msgs := []Message{
		{Role: RoleUser, Content: "u1"},
		{Role: RoleAssistant, Content: "a1"},
		{Role: RoleSystem, Content: "s2"},
		{Role: RoleUser, Content: "u2"},
		{Role: RoleAssistant, Content: "a2"},
	}
	cases := map[string]string{
		// A later system message joins the next user turn in formats without a system role.
		"mistral-instruct": "<s>[INST] u1 [/INST]a1</s>[INST] s2\n\nu2 [/INST]a2</s>",
		"llama2":           "<s>[INST] u1 [/INST] a1 </s><s>[INST] s2\n\nu2 [/INST] a2 </s>",
		// Formats with a system role keep it in place; a finished last answer has no generation prompt.
		"chatml": "<|im_start|>user\nu1<|im_end|>\n<|im_start|>assistant\na1<|im_end|>\n<|im_start|>system\ns2<|im_end|>\n<|im_start|>user\nu2<|im_end|>\n<|im_start|>assistant\na2<|im_end|>\n",
		"tulu":   "<|endoftext|><|user|>\nu1\n<|assistant|>\na1<|endoftext|>\n<|system|>\ns2\n<|user|>\nu2\n<|assistant|>\na2<|endoftext|>",
		"falcon": "User: u1\nAssistant: a1\nUser: s2\n\nu2\nAssistant: a2\n",
	}
	for name, want := range cases {
		tmpl, _ := LookupBuiltin(name)
		p, err := tmpl.Render(msgs, false)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := p.String(); got != want {
			t.Errorf("%s:\n got  %q\n want %q", name, got, want)
		}
	}
}

func TestBuiltinRejectsUnknownRole(t *testing.T) {
	msgs := []Message{{Role: "tool", Content: "42"}}
	for _, name := range []string{"llama2", "mistral-instruct", "zephyr", "tulu", "oasst", "gpt4all", "falcon", "openmath"} {
		tmpl, _ := LookupBuiltin(name)
		if _, err := tmpl.Render(msgs, true); err == nil || !strings.Contains(err.Error(), `"tool"`) {
			t.Errorf("%s: want an error naming the role, got %v", name, err)
		}
	}
	// ChatML has a place for any role.
	chatml, _ := LookupBuiltin("chatml")
	p, err := chatml.Render(msgs, false)
	if err != nil || p.String() != "<|im_start|>tool\n42<|im_end|>\n" {
		t.Errorf("chatml tool turn: %q, %v", p.String(), err)
	}
}

func TestBuiltinStops(t *testing.T) {
	want := map[string]string{
		"llama2": "</s>", "elyza": "</s>", "mistral-instruct": "</s>", "zephyr": "</s>",
		"chatml": "<|im_end|>", "tulu": "<|endoftext|>", "oasst": "<|endoftext|>",
		"gpt4all": "### Instruction:", "falcon": "\nUser:", "openmath": "\nUser:",
	}
	for name, stop := range want {
		tmpl, _ := LookupBuiltin(name)
		found := false
		for _, s := range tmpl.Stops() {
			found = found || s == stop
		}
		if !found {
			t.Errorf("%s stops %q lack %q", name, tmpl.Stops(), stop)
		}
	}
	none, _ := LookupBuiltin("none")
	if len(none.Stops()) != 0 {
		t.Errorf("none has stops %q", none.Stops())
	}
}

func TestLookupBuiltinAliases(t *testing.T) {
	for alias, name := range map[string]string{
		"L2": "llama2", "ELYZA": "elyza", "INST": "mistral-instruct", "CHATML": "chatml",
		"ZEPHYR": "zephyr", "TULU": "tulu", "OASST": "oasst", "G4A": "gpt4all",
		"FALCON": "falcon", "MATH": "openmath", "none": "none", " ChatML ": "chatml",
	} {
		tmpl, ok := LookupBuiltin(alias)
		if !ok || tmpl.Name() != name {
			t.Errorf("LookupBuiltin(%q) = %v, %v; want %s", alias, tmpl, ok, name)
		}
	}
	if _, ok := LookupBuiltin("vicuna"); ok {
		t.Error("unknown name found")
	}
}
