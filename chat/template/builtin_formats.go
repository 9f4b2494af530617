package template

import (
	"fmt"
	"strings"
)

// conversation is a chat reduced to what role-limited formats can show:
// a leading system prompt and user/assistant turns. System messages after
// the first are folded into the next user turn, the convention of formats
// without a system role.
type conversation struct {
	system    string
	hasSystem bool
	turns     []Message
}

func fold(msgs []Message) (conversation, error) {
	var c conversation
	if err := checkRoles(msgs); err != nil {
		return c, err
	}
	pending := ""
	for i, m := range msgs {
		switch m.Role {
		case RoleSystem:
			if i == 0 {
				c.system, c.hasSystem = m.Content, true
				continue
			}
			pending = joinSystem(pending, m.Content)
		case RoleUser:
			m.Content = joinSystem(pending, m.Content)
			pending = ""
			c.turns = append(c.turns, m)
		case RoleAssistant:
			c.turns = append(c.turns, m)
		}
	}
	if pending != "" {
		c.turns = append(c.turns, Message{Role: RoleUser, Content: pending})
	}
	return c, nil
}

// joinSystem prepends a system text to a user text, as Mistral does.
func joinSystem(sys, user string) string {
	if sys == "" {
		return user
	}
	return sys + "\n\n" + user
}

// checkRoles rejects roles a format has no place for.
func checkRoles(msgs []Message) error {
	for i, m := range msgs {
		if m.Role != RoleSystem && m.Role != RoleUser && m.Role != RoleAssistant {
			return fmt.Errorf("message %d: role %q is not supported (want system, user or assistant)", i, m.Role)
		}
	}
	return nil
}

// renderLlama2 follows Meta's reference (and the HF template): the system
// block opens the first user turn, contents are stripped, each exchange is
// wrapped in <s>...</s>. defaultSystem applies when no system message is given.
func renderLlama2(defaultSystem string) func(*builder, []Message, bool) error {
	return func(b *builder, msgs []Message, _ bool) error {
		c, err := fold(msgs)
		if err != nil {
			return err
		}
		if !c.hasSystem && defaultSystem != "" {
			c.system, c.hasSystem = defaultSystem, true
		}
		sysPending := c.hasSystem
		for _, m := range c.turns {
			if m.Role == RoleAssistant {
				b.raw(" ")
				b.lit(strings.TrimSpace(m.Content))
				b.raw(" </s>")
				continue
			}
			b.raw("<s>[INST] ")
			if sysPending {
				// The reference strips the whole "<<SYS>>...user" string, so
				// only the user's trailing whitespace goes.
				b.raw("<<SYS>>\n")
				b.lit(c.system)
				b.raw("\n<</SYS>>\n\n")
				b.lit(strings.TrimRightFunc(m.Content, isSpace))
				sysPending = false
			} else {
				b.lit(strings.TrimSpace(m.Content))
			}
			b.raw(" [/INST]")
		}
		return nil
	}
}

func isSpace(r rune) bool { return strings.ContainsRune(" \t\n\r\v\f", r) }

// renderMistral is Mistral's 2023 instruct format (as in the Mixtral and
// Mistral v0.2 templates of that time); the system prompt joins the first
// user turn.
func renderMistral(b *builder, msgs []Message, _ bool) error {
	c, err := fold(msgs)
	if err != nil {
		return err
	}
	b.raw("<s>")
	first := true
	for _, m := range c.turns {
		if m.Role == RoleAssistant {
			b.lit(m.Content)
			b.raw("</s>")
			continue
		}
		b.raw("[INST] ")
		if first && c.hasSystem {
			b.lit(c.system)
			b.raw("\n\n")
		}
		first = false
		b.lit(m.Content)
		b.raw(" [/INST]")
	}
	return nil
}

func renderZephyr(b *builder, msgs []Message, addGen bool) error {
	if err := checkRoles(msgs); err != nil {
		return err
	}
	for _, m := range msgs {
		b.raw("<|" + m.Role + "|>\n")
		b.lit(m.Content)
		b.raw("</s>\n")
	}
	if addGen {
		b.raw("<|assistant|>\n")
	}
	return nil
}

// renderChatML accepts any role name, as ChatML itself does.
func renderChatML(b *builder, msgs []Message, addGen bool) error {
	for i, m := range msgs {
		if m.Role == "" || strings.ContainsAny(m.Role, "\n<>") {
			return fmt.Errorf("message %d: invalid role %q", i, m.Role)
		}
		b.raw("<|im_start|>" + m.Role + "\n")
		b.lit(m.Content)
		b.raw("<|im_end|>\n")
	}
	if addGen {
		b.raw("<|im_start|>assistant\n")
	}
	return nil
}

// renderTulu is OLMo-2 Instruct's format: BOS first, every turn ends in a
// newline, answers end in <|endoftext|> (no newline after the last message).
func renderTulu(b *builder, msgs []Message, addGen bool) error {
	if err := checkRoles(msgs); err != nil {
		return err
	}
	b.raw("<|endoftext|>")
	for i, m := range msgs {
		b.raw("<|" + m.Role + "|>\n")
		b.lit(m.Content)
		switch {
		case m.Role != RoleAssistant:
			b.raw("\n")
		case i < len(msgs)-1:
			b.raw("<|endoftext|>\n")
		default:
			b.raw("<|endoftext|>")
		}
	}
	if addGen {
		b.raw("<|assistant|>\n")
	}
	return nil
}

// turnMarks are the strings a role-limited format puts around a folded conversation: a
// prefix for the system prompt and for each role, end after every part, gen to invite
// the answer.
type turnMarks struct{ system, user, assistant, end, gen string }

var (
	oasstMarks    = turnMarks{"<|system|>", "<|prompter|>", "<|assistant|>", "<|endoftext|>", "<|assistant|>"}
	gpt4allMarks  = turnMarks{"", "### Instruction:\n", "### Response:\n", "\n\n", "### Response:\n"}
	falconMarks   = turnMarks{"System: ", "User: ", "Assistant: ", "\n", "Assistant:"}
	openmathMarks = turnMarks{"System: ", "User: ", "Assistant: ", "\n\n", "Assistant:"}
)

// renderTurns writes the folded conversation with marks (OpenAssistant, GPT4All, and the
// "Role: text" lines of Falcon and OpenMath); defaultSystem applies when none is given.
func renderTurns(marks turnMarks, defaultSystem string) func(*builder, []Message, bool) error {
	return func(b *builder, msgs []Message, addGen bool) error {
		c, err := fold(msgs)
		if err != nil {
			return err
		}
		if !c.hasSystem && defaultSystem != "" {
			c.system, c.hasSystem = defaultSystem, true
		}
		if c.hasSystem {
			b.raw(marks.system)
			b.lit(c.system)
			b.raw(marks.end)
		}
		for _, m := range c.turns {
			if m.Role == RoleUser {
				b.raw(marks.user)
			} else {
				b.raw(marks.assistant)
			}
			b.lit(m.Content)
			b.raw(marks.end)
		}
		if addGen {
			b.raw(marks.gen)
		}
		return nil
	}
}

// renderNone is raw completion: a base model continues the text it is given.
func renderNone(b *builder, msgs []Message, _ bool) error {
	for _, m := range msgs {
		b.lit(m.Content)
	}
	return nil
}
