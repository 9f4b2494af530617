package template

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/nikolalohinski/gonja/v2/exec"
)

// Jinja is a model's own chat template, rendered like Hugging Face's
// apply_chat_template.
type Jinja struct {
	name   string
	source string
	tokens Tokens
	tmpl   *exec.Template
}

// NewJinja compiles a Jinja chat template. name says where it came from
// (e.g. "gguf" or a file path) and is shown to users.
func NewJinja(name, source string, tokens Tokens) (*Jinja, error) {
	tmpl, err := compileJinja(source)
	if err != nil {
		return nil, fmt.Errorf("chat template %s: %w", name, err)
	}
	return &Jinja{name: name, source: source, tokens: tokens, tmpl: tmpl}, nil
}

// Name implements Template.
func (j *Jinja) Name() string { return "jinja:" + j.name }

// Source returns the template text.
func (j *Jinja) Source() string { return j.source }

// endMarkers are end-of-turn tokens that, when a template writes them,
// also end a generated answer.
var endMarkers = []string{"<|im_end|>", "<|im_start|>", "<|eot_id|>", "<end_of_turn>", "<|end|>", "<|endoftext|>", "</s>", "<|user|>"}

// Stops implements Template: the EOS token plus the end-of-turn markers the
// template itself writes.
func (j *Jinja) Stops() []string {
	var stops []string
	seen := map[string]bool{}
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			stops = append(stops, s)
		}
	}
	add(j.tokens.EOS)
	for _, m := range endMarkers {
		if strings.Contains(j.source, m) {
			add(m)
		}
	}
	return stops
}

// Render implements Template.
func (j *Jinja) Render(msgs []Message, addGenerationPrompt bool) (Prompt, error) {
	return j.RenderTools(msgs, nil, addGenerationPrompt)
}

// RenderTools renders with OpenAI-style tool definitions passed to the
// template as `tools` (nil leaves it undefined, as HF does).
//
// The template runs twice: once with the real contents, which gives the
// exact text, and once with a unique placeholder in place of each content,
// which shows where the contents sit. If substituting the contents back
// (as is, or trimmed, for templates that strip them) reproduces the exact
// text, the contents become literal parts; otherwise the prompt is returned
// whole and marked Unprotected.
func (j *Jinja) RenderTools(msgs []Message, tools []any, addGenerationPrompt bool) (Prompt, error) {
	text, err := j.execute(msgs, nil, tools, addGenerationPrompt)
	if err != nil {
		return Prompt{}, err
	}
	hasBOS := j.tokens.BOS != "" && strings.HasPrefix(text, j.tokens.BOS)

	// First with the tool calls' argument strings protected as well; a template that
	// prints them in a way the placeholders cannot follow still gets its contents
	// protected on the second try.
	for _, args := range []bool{hasToolCalls(msgs), false} {
		marks := newSentinels(j.source, msgs, args)
		skeleton, err := j.execute(msgs, marks, tools, addGenerationPrompt)
		if err == nil {
			if parts, ok := marks.align(marks.split(skeleton), msgs, text); ok {
				return Prompt{Parts: parts, HasBOS: hasBOS}, nil
			}
		}
		if !args {
			break
		}
	}
	var parts []Part
	if text != "" {
		parts = []Part{{Text: text}}
	}
	return Prompt{Parts: parts, HasBOS: hasBOS, Unprotected: true}, nil
}

func hasToolCalls(msgs []Message) bool {
	for _, m := range msgs {
		if len(m.ToolCalls) > 0 {
			return true
		}
	}
	return false
}

// execute renders the template; marks, when given, put placeholders in place of each
// message's content (and of the tool calls' argument strings if it says so): the
// placeholder pass.
func (j *Jinja) execute(msgs []Message, marks *sentinels, tools []any, addGen bool) (out string, err error) {
	// Templates come from downloaded files; a gonja panic on an odd
	// expression must become an error, not a crash.
	defer func() {
		if r := recover(); r != nil {
			out, err = "", fmt.Errorf("render %s: template engine failed: %v", j.Name(), r)
		}
	}()
	list := make([]any, len(msgs))
	for i, m := range msgs {
		c := m.Content
		if marks != nil {
			c = marks.texts[i]
		}
		msg := map[string]any{"role": m.Role, "content": c}
		if len(m.ToolCalls) > 0 {
			var protect func(any) any
			if marks != nil && marks.args {
				protect = marks.protect
			}
			calls, err := templateCalls(m.ToolCalls, protect)
			if err != nil {
				return "", fmt.Errorf("render %s: message %d: %w", j.Name(), i, err)
			}
			msg["tool_calls"] = calls
		}
		if m.ToolCallID != "" {
			msg["tool_call_id"] = m.ToolCallID
		}
		if m.Name != "" {
			msg["name"] = m.Name
		}
		list[i] = msg
	}
	var raise raiser
	vars := map[string]any{
		"raise_exception":       raise.call,
		"messages":              pyList(list),
		"bos_token":             j.tokens.BOS,
		"eos_token":             j.tokens.EOS,
		"add_generation_prompt": addGen,
	}
	if tools != nil {
		vars["tools"] = pyList(tools)
	}
	out, err = j.tmpl.ExecuteToString(exec.NewContext(vars))
	if err != nil {
		if raise.raised != nil {
			return "", fmt.Errorf("render %s: %w", j.Name(), raise.raised)
		}
		return "", fmt.Errorf("render %s: %w", j.Name(), err)
	}
	return out, nil
}

// templateCalls spells tool calls as Hugging Face templates read them: OpenAI's shape,
// {"id", "type": "function", "function": {"name", "arguments": object}}, keys in that
// order (Mistral's template writes function|tojson as it is).
func templateCalls(calls []ToolCall, protect func(any) any) ([]any, error) {
	out := make([]any, len(calls))
	for i, c := range calls {
		raw := c.Arguments
		if len(raw) == 0 {
			raw = json.RawMessage("{}")
		}
		args, err := OrderedJSON(raw)
		if err != nil {
			return nil, fmt.Errorf("tool call %s: arguments: %w", c.Name, err)
		}
		if protect != nil {
			args = protect(args)
		}
		out[i] = orderedDict("id", c.ID, "type", "function", "function", orderedDict("name", c.Name, "arguments", args))
	}
	return out, nil
}

// toolProbe is the name TakesTools offers a template; no real tool is called this.
const toolProbe = "olm_probe_tool_7f3a"

// TakesTools reports whether the template renders tool definitions: it is given one
// probe tool, and takes tools when the prompt then names it. Templates without tool
// support ignore the variable (or fail), and the server answers such requests with an
// error instead of inventing a format.
func (j *Jinja) TakesTools() bool {
	tool, err := OrderedJSON([]byte(`{"type": "function", "function": {"name": "` + toolProbe + `", "description": "probe", "parameters": {"type": "object", "properties": {}}}}`))
	if err != nil {
		return false
	}
	out, err := j.execute([]Message{{Role: RoleUser, Content: "Hello"}}, nil, []any{tool}, true)
	return err == nil && strings.Contains(out, toolProbe)
}
