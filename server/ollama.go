package server

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/olm-dev/olm/chat/template"
	"github.com/olm-dev/olm/chat/tools"
	"github.com/olm-dev/olm/grammar"
	"github.com/olm-dev/olm/models"
	"github.com/olm-dev/olm/runner"
)

// duration is ollama's keep_alive: a Go duration string ("5m"), a number of seconds, and
// any negative value for "forever".
type duration struct{ d *time.Duration }

func (k *duration) UnmarshalJSON(b []byte) error {
	var d time.Duration
	var n float64
	var s string
	switch {
	case json.Unmarshal(b, &n) == nil:
		d = time.Duration(n * float64(time.Second))
	case json.Unmarshal(b, &s) == nil:
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			if f, ferr := strconv.ParseFloat(s, 64); ferr == nil {
				d = time.Duration(f * float64(time.Second))
			} else {
				return badRequest("keep_alive", "keep_alive %q: want a duration such as \"5m\", seconds, 0 to unload or -1 to keep", s)
			}
		}
	default:
		return badRequest("keep_alive", "keep_alive: want a duration such as \"5m\" or a number of seconds")
	}
	if d < 0 {
		d = -1
	}
	k.d = &d
	return nil
}

// ollamaOptions are the options olm maps onto its settings; the ignored ones are accepted
// because clients send them routinely, the rest are refused by name.
var (
	ollamaIgnored = map[string]bool{"num_keep": true, "num_batch": true, "num_gpu": true, "main_gpu": true, "use_mmap": true,
		"use_mlock": true, "num_thread": true, "low_vram": true, "numa": true, "typical_p": true, "penalize_newline": true}
)

func (g *genRequest) applyOptions(opts map[string]json.RawMessage) error {
	var bad []string
	for k, raw := range opts {
		var err error
		f := func(dst *float64) { err = json.Unmarshal(raw, dst) }
		i := func(dst *int) {
			var v float64
			if err = json.Unmarshal(raw, &v); err == nil {
				*dst = int(v)
			}
		}
		switch k {
		case "temperature":
			f(&g.sampling.Temp)
		case "top_p":
			f(&g.sampling.TopP)
		case "min_p":
			f(&g.sampling.MinP)
		case "repeat_penalty":
			f(&g.sampling.RepeatPenalty)
		case "frequency_penalty":
			f(&g.sampling.FreqPenalty)
		case "presence_penalty":
			f(&g.sampling.PresPenalty)
		case "top_k":
			i(&g.sampling.TopK)
		case "repeat_last_n":
			i(&g.sampling.RepeatLastN)
		case "num_predict":
			i(&g.maxTokens)
			if err == nil && g.maxTokens < 0 {
				g.maxTokens = 0 // -1 and -2: until the model stops or the context is full
			}
		case "num_ctx":
			i(&g.maxCtx)
		case "seed":
			var v float64
			if err = json.Unmarshal(raw, &v); err == nil {
				g.sampling.Seed = int64(v)
			}
		case "stop":
			err = json.Unmarshal(raw, &g.stop)
		case "tool_choice": // olm's own: ollama has no way to force a call
			var v string
			if err = json.Unmarshal(raw, &v); err == nil {
				g.olToolChoice = v
			}
		default:
			if !ollamaIgnored[k] {
				bad = append(bad, k)
			}
		}
		if err != nil {
			return badRequest(k, "options.%s: %v", k, err)
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return badRequest(bad[0], "unsupported option(s): %s", strings.Join(bad, ", "))
	}
	if err := g.sampling.Validate(); err != nil {
		return badRequest("options", "options: %s", strings.TrimPrefix(err.Error(), "--"))
	}
	return nil
}

type olMessage struct {
	Role       string          `json:"role"`
	Content    string          `json:"content"`
	Images     json.RawMessage `json:"images,omitempty"`
	ToolCalls  []apiToolCall   `json:"tool_calls,omitempty"`
	ToolName   string          `json:"tool_name,omitempty"`
	ToolCallID string          `json:"tool_call_id,omitempty"`
}

// ollamaChoice spells olm's tool_choice option as OpenAI's: "auto", "none" and
// "required" as they are, anything else names the function.
func ollamaChoice(v string) json.RawMessage {
	var b []byte
	switch tools.Mode(v) {
	case "":
		return nil
	case tools.ModeAuto, tools.ModeNone, tools.ModeRequired:
		b, _ = json.Marshal(v)
	default:
		b, _ = json.Marshal(map[string]any{"type": "function", "function": map[string]string{"name": v}})
	}
	return b
}

func olCall(i int, c template.ToolCall) map[string]any {
	return map[string]any{"id": c.ID, "function": map[string]any{"index": i, "name": c.Name, "arguments": c.Arguments}}
}

type olRequest struct {
	Model     string                     `json:"model"`
	Name      string                     `json:"name"` // older clients
	Messages  []olMessage                `json:"messages"`
	Prompt    *string                    `json:"prompt"`
	System    string                     `json:"system"`
	Raw       bool                       `json:"raw"`
	Stream    *bool                      `json:"stream"`
	Options   map[string]json.RawMessage `json:"options"`
	KeepAlive duration                   `json:"keep_alive"`
	Truncate  *bool                      `json:"truncate"`
	Format    json.RawMessage            `json:"format"`
	Tools     json.RawMessage            `json:"tools"`
	Template  string                     `json:"template"`
	Images    json.RawMessage            `json:"images"`
	Context   json.RawMessage            `json:"context"`
	Suffix    string                     `json:"suffix"`
	Think     json.RawMessage            `json:"think"`
}

func (q *olRequest) model() string {
	if q.Model != "" {
		return q.Model
	}
	return q.Name
}

func (q *olRequest) unsupported() []string {
	var out []string
	set := func(name string, raw json.RawMessage) {
		if s := string(raw); len(raw) > 0 && s != "null" && s != "[]" && s != `""` && s != "false" {
			out = append(out, name)
		}
	}
	set("images", q.Images)
	set("context", q.Context)
	set("think", q.Think)
	if q.Template != "" {
		out = append(out, "template")
	}
	if q.Suffix != "" {
		out = append(out, "suffix")
	}
	for _, m := range q.Messages {
		if len(m.Images) > 0 && string(m.Images) != "null" && string(m.Images) != "[]" {
			out = append(out, "messages.images")
			break
		}
	}
	return out
}

func (q *olRequest) toGen(chat bool) (genRequest, error) {
	g := genRequest{model: q.model(), sampling: runner.DefaultSampling(), keepAlive: q.KeepAlive.d, truncate: q.Truncate != nil && *q.Truncate}
	if g.model == "" {
		return g, badRequest("model", "model is required: name a model olm list shows")
	}
	if bad := q.unsupported(); len(bad) > 0 {
		return g, badRequest(bad[0], "unsupported parameter(s): %s", strings.Join(bad, ", "))
	}
	if err := g.applyOptions(q.Options); err != nil {
		return g, err
	}
	gr, err := grammar.FromOllamaFormat(q.Format)
	if err != nil {
		return g, badRequest("format", "%v", err)
	}
	g.sampling.Grammar, g.sampling.GrammarRoot = gr.Text, gr.Root
	if chat {
		for i, m := range q.Messages {
			role := m.Role
			switch role {
			case template.RoleSystem, template.RoleUser, template.RoleAssistant, template.RoleTool:
			default:
				return g, badRequest("messages", "messages[%d]: role %q is not one of system, user, assistant, tool", i, m.Role)
			}
			if err := g.addMessage(i, role, m.Content, m.ToolCallID, m.ToolName, m.ToolCalls, false); err != nil {
				return g, err
			}
		}
		return g, g.takeTools(q.Tools, ollamaChoice(g.olToolChoice), true)
	}
	if len(q.Tools) > 0 && string(q.Tools) != "null" && string(q.Tools) != "[]" {
		return g, badRequest("tools", "tools work with /api/chat, not with /api/generate")
	}
	if q.Prompt != nil {
		g.prompt = *q.Prompt
	}
	if !q.Raw { // a generate request without raw goes through the chat template, as ollama does
		if q.System != "" {
			g.messages = append(g.messages, template.Message{Role: template.RoleSystem, Content: q.System})
		}
		g.messages = append(g.messages, template.Message{Role: template.RoleUser, Content: g.prompt})
	}
	return g, nil
}

func (s *Server) ollamaChat(w http.ResponseWriter, r *http.Request)     { s.ollama(w, r, true) }
func (s *Server) ollamaGenerate(w http.ResponseWriter, r *http.Request) { s.ollama(w, r, false) }

// ollama serves /api/chat and /api/generate: NDJSON streams (the default) or one object.
func (s *Server) ollama(w http.ResponseWriter, r *http.Request, chat bool) {
	var q olRequest
	if err := decode(r, &q); err != nil {
		writeErr(w, r, err)
		return
	}
	g, err := q.toGen(chat)
	if err != nil {
		writeErr(w, r, err)
		return
	}
	now := func() string { return s.cfg.Now().UTC().Format(time.RFC3339Nano) }
	// No messages or no prompt: load (or with keep_alive 0, unload) the model, as ollama does.
	if (chat && len(g.messages) == 0) || (!chat && q.Prompt == nil || !chat && *q.Prompt == "") {
		s.ollamaLoadOnly(w, r, g, chat)
		return
	}
	stream := q.Stream == nil || *q.Stream
	piece := func(model, text string) map[string]any {
		o := map[string]any{"model": model, "created_at": now(), "done": false}
		if chat {
			o["message"] = map[string]any{"role": "assistant", "content": text}
		} else {
			o["response"] = text
		}
		return o
	}
	final := func(res genResult, text string) map[string]any {
		o := piece(res.model, text)
		o["done"] = true
		o["done_reason"] = finishReason(res.Reason)
		o["total_duration"] = res.totalDur.Nanoseconds()
		o["load_duration"] = res.loadDur.Nanoseconds()
		o["prompt_eval_count"] = res.PromptTokens
		o["prompt_eval_duration"] = res.PromptTime.Nanoseconds()
		o["eval_count"] = res.GenTokens
		o["eval_duration"] = res.GenTime.Nanoseconds()
		return o
	}
	if !stream {
		var text strings.Builder
		res, err := s.generate(r.Context(), g, sink{text: func(b []byte) error { text.Write(b); return nil }})
		if err != nil {
			writeErr(w, r, err)
			return
		}
		content, calls := res.whole(text.String())
		o := final(res, content)
		if len(calls) > 0 {
			list := make([]any, len(calls))
			for i, c := range calls {
				list[i] = olCall(i, c)
			}
			o["message"] = map[string]any{"role": "assistant", "content": content, "tool_calls": list}
		}
		writeJSON(w, http.StatusOK, o)
		return
	}
	sw := newStreamWriter(w, "application/x-ndjson")
	line := func(v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		return sw.write(append(b, '\n'))
	}
	ncalls := 0
	res, err := s.generate(r.Context(), g, sink{start: sw.start,
		text: func(b []byte) error { return line(piece(g.model, string(b))) },
		callDone: func(c template.ToolCall) error { // ollama streams each call whole, once it is
			o := piece(g.model, "")
			o["message"] = map[string]any{"role": "assistant", "content": "", "tool_calls": []any{olCall(ncalls, c)}}
			ncalls++
			return line(o)
		}})
	if err != nil {
		if !sw.started {
			writeErr(w, r, err)
			return
		}
		line(map[string]string{"error": classify(err).msg})
		return
	}
	if res.Reason == runner.StopCancelled {
		return
	}
	line(final(res, ""))
}

func (s *Server) ollamaLoadOnly(w http.ResponseWriter, r *http.Request, g genRequest, chat bool) {
	reason := "load"
	if g.keepAlive != nil && *g.keepAlive == 0 {
		if _, err := s.models.unloadNamed(r.Context(), g.model); err != nil {
			writeErr(w, r, err)
			return
		}
		reason = "unload"
	} else {
		l, err := s.models.acquire(r.Context(), g.model, g.keepAlive)
		if err != nil {
			writeErr(w, r, err)
			return
		}
		s.models.release(l, g.keepAlive)
	}
	o := map[string]any{"model": g.model, "created_at": s.cfg.Now().UTC().Format(time.RFC3339Nano), "done": true, "done_reason": reason}
	if chat {
		o["message"] = map[string]any{"role": "assistant", "content": ""}
	} else {
		o["response"] = ""
	}
	writeJSON(w, http.StatusOK, o)
}

type olDetails struct {
	Format            string   `json:"format"`
	Family            string   `json:"family"`
	Families          []string `json:"families"`
	ParameterSize     string   `json:"parameter_size"`
	QuantizationLevel string   `json:"quantization_level"`
}

func detailsOf(path string) (olDetails, models.Info) {
	d := olDetails{Format: "gguf"}
	info, err := models.Inspect(path)
	if err != nil {
		return d, info
	}
	d.Family, d.Families = info.Arch, []string{info.Arch}
	d.QuantizationLevel = info.FileType
	if info.Params > 0 {
		d.ParameterSize = paramSize(info.Params)
	}
	return d, info
}

func paramSize(n uint64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.1fB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	}
	return fmt.Sprintf("%.1fK", float64(n)/1e3)
}

// digestOf stands in for ollama's manifest digest: clients only compare it, so a hash of
// the file's path (stable, and cheap next to hashing gigabytes) serves.
func digestOf(l LocalModel) string {
	sum := sha256.Sum256([]byte(l.Path))
	return hex.EncodeToString(sum[:])
}

func (s *Server) ollamaTags(w http.ResponseWriter, r *http.Request) {
	list, err := s.cfg.Library.List()
	if err != nil && len(list) == 0 {
		writeErr(w, r, err)
		return
	}
	out := []map[string]any{}
	for _, m := range list {
		d, _ := detailsOf(m.Path)
		out = append(out, map[string]any{"name": m.Name, "model": m.Name, "modified_at": m.Modified.UTC().Format(time.RFC3339Nano),
			"size": m.Size, "digest": digestOf(m), "details": d})
	}
	writeJSON(w, http.StatusOK, map[string]any{"models": out})
}

func (s *Server) ollamaShow(w http.ResponseWriter, r *http.Request) {
	var q olRequest
	if err := decode(r, &q); err != nil {
		writeErr(w, r, err)
		return
	}
	if q.model() == "" {
		writeErr(w, r, badRequest("model", "model is required"))
		return
	}
	res, err := s.cfg.Library.Resolve(r.Context(), q.model(), false)
	if err != nil {
		writeErr(w, r, err)
		return
	}
	d, info := detailsOf(res.Path)
	caps := []string{"completion"}
	if tools.Detect(info.ChatTemplate) != tools.None {
		caps = append(caps, "tools") // clients such as Open WebUI offer tools only then
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"modelfile":  fmt.Sprintf("FROM %s\n", res.Path),
		"parameters": "",
		"template":   info.ChatTemplate,
		"details":    d,
		"model_info": map[string]any{
			"general.architecture":              info.Arch,
			"general.parameter_count":           info.Params,
			info.Arch + ".context_length":       info.ContextLength,
			info.Arch + ".embedding_length":     info.NEmbd,
			info.Arch + ".block_count":          info.NLayer,
			info.Arch + ".attention.head_count": info.NHead,
			"tokenizer.ggml.bos_token_id":       info.BOS.ID,
			"tokenizer.ggml.eos_token_id":       info.EOS.ID,
			"general.file_type":                 info.FileType,
		},
		"capabilities": caps,
		"modified_at":  s.cfg.Now().UTC().Format(time.RFC3339Nano),
	})
}

func (s *Server) ollamaPS(w http.ResponseWriter, r *http.Request) {
	out := []map[string]any{}
	for _, l := range s.models.snapshot() {
		d, _ := detailsOf(l.path)
		exp := l.expires
		if exp.IsZero() {
			exp = s.cfg.Now().Add(100 * 365 * 24 * time.Hour) // in use or kept: no expiry
		}
		out = append(out, map[string]any{"name": l.name, "model": l.name, "size": l.size, "digest": digestOf(LocalModel{Path: l.path}),
			"details": d, "expires_at": exp.UTC().Format(time.RFC3339Nano), "size_vram": 0, "context_length": l.ctx})
	}
	writeJSON(w, http.StatusOK, map[string]any{"models": out})
}

func (s *Server) ollamaPull(w http.ResponseWriter, r *http.Request) {
	var q struct {
		Model  string `json:"model"`
		Name   string `json:"name"`
		Stream *bool  `json:"stream"`
	}
	if err := decode(r, &q); err != nil {
		writeErr(w, r, err)
		return
	}
	name := q.Model
	if name == "" {
		name = q.Name
	}
	if name == "" {
		writeErr(w, r, badRequest("model", "model is required"))
		return
	}
	stream := q.Stream == nil || *q.Stream
	if !stream {
		if err := s.cfg.Library.Pull(r.Context(), name, func(PullProgress) {}); err != nil {
			writeErr(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "success"})
		return
	}
	sw := newStreamWriter(w, "application/x-ndjson")
	line := func(v any) {
		b, _ := json.Marshal(v)
		sw.write(append(b, '\n'))
	}
	line(map[string]string{"status": "pulling manifest"})
	err := s.cfg.Library.Pull(r.Context(), name, func(p PullProgress) {
		o := map[string]any{"status": p.Status}
		if p.Digest != "" {
			o["digest"], o["total"], o["completed"] = p.Digest, p.Total, p.Completed
		}
		line(o)
	})
	if err != nil {
		line(map[string]string{"error": classify(err).msg})
		return
	}
	line(map[string]string{"status": "success"})
}

func (s *Server) ollamaDelete(w http.ResponseWriter, r *http.Request) {
	var q struct {
		Model string `json:"model"`
		Name  string `json:"name"`
	}
	if err := decode(r, &q); err != nil {
		writeErr(w, r, err)
		return
	}
	name := q.Model
	if name == "" {
		name = q.Name
	}
	if name == "" {
		writeErr(w, r, badRequest("model", "model is required"))
		return
	}
	s.models.unloadNamed(r.Context(), name)
	if err := s.cfg.Library.Delete(name); err != nil {
		if errors.Is(err, ErrUnknownModel) || errors.Is(err, ErrNotPulled) {
			writeAPIError(w, r, &apiError{status: http.StatusNotFound, msg: err.Error()})
			return
		}
		writeErr(w, r, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (s *Server) ollamaVersion(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"version": s.cfg.Version})
}
