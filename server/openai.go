package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/olm-dev/olm/chat/template"
	"github.com/olm-dev/olm/chat/tools"
	"github.com/olm-dev/olm/grammar"
	"github.com/olm-dev/olm/runner"
)

// stopList is OpenAI's stop: a string or an array of strings.
type stopList []string

func (s *stopList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return badRequest("stop", "stop: want a string or an array of strings")
	}
	*s = many
	return nil
}

// content is a message's content: a string, or OpenAI's array of parts of which olm takes
// the text ones.
type content string

func (c *content) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*c = content(s)
		return nil
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(b, &parts); err != nil {
		return badRequest("messages", "message content: want a string or an array of text parts")
	}
	var sb strings.Builder
	for _, p := range parts {
		if p.Type != "text" {
			return badRequest("messages", "message content part of type %q: olm takes text only", p.Type)
		}
		sb.WriteString(p.Text)
	}
	*c = content(sb.String())
	return nil
}

type oaMessage struct {
	Role       string        `json:"role"`
	Content    content       `json:"content"`
	ToolCalls  []apiToolCall `json:"tool_calls"`
	ToolCallID string        `json:"tool_call_id"`
	Name       string        `json:"name"`
}

// oaCalls spells calls for a response: arguments as a string.
func oaCalls(calls []template.ToolCall) []map[string]any {
	out := make([]map[string]any, len(calls))
	for i, c := range calls {
		out[i] = map[string]any{"id": c.ID, "type": "function",
			"function": map[string]any{"name": c.Name, "arguments": string(c.Arguments)}}
	}
	return out
}

type oaStreamOptions struct {
	IncludeUsage bool `json:"include_usage"`
	// ContinuousUsageStats (vLLM's and SGLang's extension, with include_usage) puts the
	// usage so far in every chunk: a client that stops a stream still knows its tokens.
	ContinuousUsageStats bool `json:"continuous_usage_stats"`
}

// oaRequest holds the fields of /v1/chat/completions and /v1/completions olm honours;
// Unsupported lists those it refuses rather than silently ignore.
type oaRequest struct {
	Model               string           `json:"model"`
	Messages            []oaMessage      `json:"messages"`
	Prompt              *json.RawMessage `json:"prompt"`
	Stream              bool             `json:"stream"`
	StreamOptions       *oaStreamOptions `json:"stream_options"`
	Temperature         *float64         `json:"temperature"`
	TopP                *float64         `json:"top_p"`
	MaxTokens           *int             `json:"max_tokens"`
	MaxCompletionTokens *int             `json:"max_completion_tokens"`
	Stop                stopList         `json:"stop"`
	Seed                *int64           `json:"seed"`
	FrequencyPenalty    *float64         `json:"frequency_penalty"`
	PresencePenalty     *float64         `json:"presence_penalty"`
	N                   *int             `json:"n"`

	LogitBias    json.RawMessage `json:"logit_bias"`
	Logprobs     json.RawMessage `json:"logprobs"`
	TopLogprobs  json.RawMessage `json:"top_logprobs"`
	Tools        json.RawMessage `json:"tools"`
	ToolChoice   json.RawMessage `json:"tool_choice"`
	Functions    json.RawMessage `json:"functions"`
	Response     json.RawMessage `json:"response_format"`
	Audio        json.RawMessage `json:"audio"`
	Modalities   json.RawMessage `json:"modalities"`
	Prediction   json.RawMessage `json:"prediction"`
	Suffix       json.RawMessage `json:"suffix"`
	Echo         json.RawMessage `json:"echo"`
	BestOf       json.RawMessage `json:"best_of"`
	ParallelCall json.RawMessage `json:"parallel_tool_calls"`
}

// unsupported names the fields that are set but that olm cannot honour yet.
func (q *oaRequest) unsupported() []string {
	var out []string
	set := func(name string, raw json.RawMessage) {
		if len(raw) > 0 && string(raw) != "null" && string(raw) != "false" && string(raw) != "{}" && string(raw) != "[]" {
			out = append(out, name)
		}
	}
	set("logit_bias", q.LogitBias)
	set("logprobs", q.Logprobs)
	set("top_logprobs", q.TopLogprobs)
	set("functions", q.Functions)
	set("audio", q.Audio)
	set("modalities", q.Modalities)
	set("prediction", q.Prediction)
	set("suffix", q.Suffix)
	set("echo", q.Echo)
	set("best_of", q.BestOf)
	sort.Strings(out)
	return out
}

// toGen checks the request and turns it into olm's terms.
func (q *oaRequest) toGen(chat bool) (genRequest, error) {
	g := genRequest{model: q.Model, stop: q.Stop, sampling: runner.DefaultSampling()}
	if q.Model == "" {
		return g, badRequest("model", "model is required: name a model olm list shows")
	}
	if bad := q.unsupported(); len(bad) > 0 {
		return g, badRequest(bad[0], "unsupported parameter(s): %s", strings.Join(bad, ", "))
	}
	if q.N != nil && *q.N != 1 {
		return g, badRequest("n", "n = %d: olm returns one choice per request; send n = 1 (or several requests)", *q.N)
	}
	if chat {
		if len(q.Messages) == 0 {
			return g, badRequest("messages", "messages is empty: send at least one message")
		}
		for i, m := range q.Messages {
			role := m.Role
			switch role {
			case template.RoleSystem, template.RoleUser, template.RoleAssistant, template.RoleTool:
			case "developer":
				role = template.RoleSystem
			default:
				return g, badRequest(fmt.Sprintf("messages[%d].role", i), "messages[%d]: role %q is not one of system, developer, user, assistant, tool", i, m.Role)
			}
			if err := g.addMessage(i, role, string(m.Content), m.ToolCallID, m.Name, m.ToolCalls, true); err != nil {
				return g, err
			}
		}
		if err := g.takeTools(q.Tools, q.ToolChoice, string(q.ParallelCall) != "false"); err != nil {
			return g, err
		}
	} else {
		if len(q.Tools) > 0 && string(q.Tools) != "null" && string(q.Tools) != "[]" {
			return g, badRequest("tools", "tools work with /v1/chat/completions, not with completions")
		}
		if q.Prompt == nil {
			return g, badRequest("prompt", "prompt is required")
		}
		var p string
		if err := json.Unmarshal(*q.Prompt, &p); err != nil {
			var ps []string
			if json.Unmarshal(*q.Prompt, &ps) != nil || len(ps) != 1 {
				return g, badRequest("prompt", "prompt: want a string (or an array of one string)")
			}
			p = ps[0]
		}
		if strings.TrimSpace(p) == "" {
			return g, badRequest("prompt", "prompt is empty")
		}
		g.prompt = p
	}
	if q.Temperature != nil {
		g.sampling.Temp = *q.Temperature
	}
	if q.TopP != nil {
		g.sampling.TopP = *q.TopP
	}
	if q.Seed != nil {
		g.sampling.Seed = *q.Seed
	}
	if q.FrequencyPenalty != nil {
		g.sampling.FreqPenalty = *q.FrequencyPenalty
	}
	if q.PresencePenalty != nil {
		g.sampling.PresPenalty = *q.PresencePenalty
	}
	switch {
	case q.MaxCompletionTokens != nil:
		g.maxTokens = *q.MaxCompletionTokens
	case q.MaxTokens != nil:
		g.maxTokens = *q.MaxTokens
	}
	if g.maxTokens < 0 || (g.maxTokens == 0 && (q.MaxTokens != nil || q.MaxCompletionTokens != nil)) {
		return g, badRequest("max_tokens", "max_tokens %d: must be at least 1", g.maxTokens)
	}
	if err := g.sampling.Validate(); err != nil {
		return g, badRequest("", "%s", strings.TrimPrefix(err.Error(), "--"))
	}
	if len(q.Response) > 0 && string(q.Response) != "null" {
		var rf grammar.ResponseFormat
		if err := json.Unmarshal(q.Response, &rf); err != nil {
			return g, badRequest("response_format", "response_format: %v", err)
		}
		gr, err := grammar.FromResponseFormat(&rf)
		if err != nil {
			return g, badRequest("response_format", "%v", err)
		}
		g.sampling.Grammar, g.sampling.GrammarRoot = gr.Text, gr.Root
	}
	return g, nil
}

// takeTools reads the tool definitions and tool_choice (both APIs; ollama has no
// tool_choice, which means auto).
func (g *genRequest) takeTools(rawTools, rawChoice json.RawMessage, parallel bool) error {
	list, defs, err := tools.ParseTools(rawTools)
	if err != nil {
		return badRequest("tools", "%v", err)
	}
	choice, err := tools.ParseChoice(rawChoice)
	if err != nil {
		return badRequest("tool_choice", "%v", err)
	}
	if len(list) == 0 && (choice.Mode == tools.ModeRequired || choice.Mode == tools.ModeNamed) {
		return badRequest("tool_choice", "tool_choice %s needs tools: send the functions in tools", choice.Mode)
	}
	if len(list) > 0 {
		g.toolList, g.toolDefs = list, defs
	}
	g.toolChoice, g.parallel = choice, parallel
	return nil
}

type oaUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

func usageOf(r genResult) *oaUsage {
	return &oaUsage{PromptTokens: r.PromptTokens, CompletionTokens: r.GenTokens, TotalTokens: r.PromptTokens + r.GenTokens}
}

func (s *Server) openaiChat(w http.ResponseWriter, r *http.Request) { s.openai(w, r, true) }

func (s *Server) openaiCompletion(w http.ResponseWriter, r *http.Request) { s.openai(w, r, false) }

// openai serves both completion endpoints: the same flow, two response shapes.
func (s *Server) openai(w http.ResponseWriter, r *http.Request, chat bool) {
	var q oaRequest
	if err := decode(r, &q); err != nil {
		writeErr(w, r, err)
		return
	}
	g, err := q.toGen(chat)
	if err != nil {
		writeErr(w, r, err)
		return
	}
	id := fmt.Sprintf("chatcmpl-%s", w.Header().Get("X-Request-Id"))
	object, chunkObject := "chat.completion", "chat.completion.chunk"
	if !chat {
		id = fmt.Sprintf("cmpl-%s", w.Header().Get("X-Request-Id"))
		object, chunkObject = "text_completion", "text_completion"
	}
	created := s.cfg.Now().Unix()
	if !q.Stream {
		var text strings.Builder
		res, err := s.generate(r.Context(), g, sink{text: func(b []byte) error { text.Write(b); return nil }})
		if err != nil {
			writeErr(w, r, err)
			return
		}
		choice := map[string]any{"index": 0, "finish_reason": res.finish()}
		if chat {
			content, calls := res.whole(text.String())
			msg := map[string]any{"role": "assistant", "content": content}
			if len(calls) > 0 {
				msg["tool_calls"] = oaCalls(calls)
				if content == "" {
					msg["content"] = nil // OpenAI's shape for an answer that only calls
				}
			}
			choice["message"] = msg
		} else {
			choice["text"] = text.String()
			choice["logprobs"] = nil
		}
		writeJSON(w, http.StatusOK, map[string]any{"id": id, "object": object, "created": created, "model": res.model,
			"choices": []any{choice}, "usage": usageOf(res), "system_fingerprint": "olm"})
		return
	}
	sw := newStreamWriter(w, "text/event-stream")
	event := func(v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		return sw.write(append(append([]byte("data: "), b...), '\n', '\n'))
	}
	var sofar *oaUsage // with continuous_usage_stats, the usage each chunk carries
	var tokens func(prompt, completion int)
	if q.StreamOptions != nil && q.StreamOptions.IncludeUsage && q.StreamOptions.ContinuousUsageStats {
		sofar = &oaUsage{}
		tokens = func(p, c int) { *sofar = oaUsage{PromptTokens: p, CompletionTokens: c, TotalTokens: p + c} }
	}
	chunk := func(model string, delta map[string]any, text string, finish any) map[string]any {
		c := map[string]any{"index": 0, "finish_reason": finish}
		if chat {
			c["delta"] = delta
		} else {
			c["text"] = text
			c["logprobs"] = nil
		}
		ev := map[string]any{"id": id, "object": chunkObject, "created": created, "model": model, "choices": []any{c}, "system_fingerprint": "olm"}
		if sofar != nil {
			ev["usage"] = *sofar
		}
		return ev
	}
	model := g.model
	onStart := func() { // the model is loaded and the prompt fits: the stream begins
		if chat {
			event(chunk(model, map[string]any{"role": "assistant", "content": ""}, "", nil))
		}
	}
	res, err := s.generate(r.Context(), g, sink{start: onStart, tokens: tokens,
		text: func(b []byte) error { return event(chunk(model, map[string]any{"content": string(b)}, string(b), nil)) },
		call: func(e tools.Event) error {
			d := map[string]any{"index": e.Index, "function": map[string]any{"arguments": e.Text}}
			if e.Kind == tools.CallStart {
				d["id"], d["type"], d["function"] = e.ID, "function", map[string]any{"name": e.Name, "arguments": ""}
			}
			return event(chunk(model, map[string]any{"tool_calls": []any{d}}, "", nil))
		}})
	if err != nil {
		if !sw.started {
			writeErr(w, r, err)
			return
		}
		e := classify(err)
		event(map[string]any{"error": map[string]any{"message": e.msg, "type": "server_error", "code": e.code}})
		return
	}
	if res.Reason == runner.StopCancelled {
		return // the client went away
	}
	if sofar != nil {
		*sofar = *usageOf(res)
	}
	event(chunk(res.model, map[string]any{}, "", res.finish()))
	if q.StreamOptions != nil && q.StreamOptions.IncludeUsage {
		event(map[string]any{"id": id, "object": chunkObject, "created": created, "model": res.model,
			"choices": []any{}, "usage": usageOf(res)})
	}
	sw.write([]byte("data: [DONE]\n\n"))
}

type oaModel struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

func (s *Server) openaiModels(w http.ResponseWriter, r *http.Request) {
	list, err := s.cfg.Library.List()
	if err != nil && len(list) == 0 {
		writeErr(w, r, err)
		return
	}
	data := []oaModel{}
	for _, m := range list {
		data = append(data, oaModel{ID: m.Name, Object: "model", Created: m.Modified.Unix(), OwnedBy: "olm"})
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": data})
}

func (s *Server) openaiModel(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	list, _ := s.cfg.Library.List()
	for _, m := range list {
		if m.Name == id {
			writeJSON(w, http.StatusOK, oaModel{ID: m.Name, Object: "model", Created: m.Modified.Unix(), OwnedBy: "olm"})
			return
		}
	}
	if _, err := s.cfg.Library.Resolve(r.Context(), id, false); err != nil {
		writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, oaModel{ID: id, Object: "model", Created: time.Now().Unix(), OwnedBy: "olm"})
}
