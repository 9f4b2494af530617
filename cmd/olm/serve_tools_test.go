package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ollama/ollama/api"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/shared"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/olm-dev/olm/synth"
)

// The tool-call tests serve a random-weight model carrying Qwen2.5-Instruct's real chat
// template (chat/template/testdata, from the model's tokenizer_config.json): its text is
// noise, so only what the grammar forces is asserted, never what a call says.

const weatherParams = `{"type": "object", "properties": {"city": {"type": "string", "maxLength": 12},
 "unit": {"enum": ["C", "F"]}}, "required": ["city", "unit"]}`

const timeParams = `{"type": "object", "properties": {"zone": {"type": "string", "maxLength": 8}}, "required": ["zone"]}`

// importToolModel writes a tiny random model with the named template of
// chat/template/testdata/jinja and imports it as name; special are its control tokens
// beyond ChatML's (Mistral's [TOOL_CALLS] is one, which answers' text leaves out).
func importToolModel(t testing.TB, name, tmpl string, special ...string) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "..", "chat", "template", "testdata", "jinja", tmpl+".jinja"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name+".gguf")
	if err := synth.WriteTinyChat(context.Background(), path, "llama", string(src), special...); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "", "import", path, "--name", name)
}

func startToolServe(t *testing.T) *served {
	return startServe(t, func(*serveOptions) {
		importToolModel(t, "qwen-tools", "qwen2.5")
		importToolModel(t, "mistral-tools", "mistral-v0.3", "[INST]", "[/INST]", "[TOOL_CALLS]", "[AVAILABLE_TOOLS]",
			"[/AVAILABLE_TOOLS]", "[TOOL_RESULTS]", "[/TOOL_RESULTS]")
	})
}

func oaTools(t *testing.T) []openai.ChatCompletionToolUnionParam {
	var w, tm shared.FunctionParameters
	if err := json.Unmarshal([]byte(weatherParams), &w); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(timeParams), &tm); err != nil {
		t.Fatal(err)
	}
	return []openai.ChatCompletionToolUnionParam{
		openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{Name: "get_weather", Description: openai.String("The weather in a city"), Parameters: w}),
		openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{Name: "get_time", Parameters: tm}),
	}
}

func toolSchemas(t *testing.T) map[string]*jsonschema.Schema {
	return compileSchemas(t, map[string]string{"get_weather": weatherParams, "get_time": timeParams})
}

func compileSchemas(t *testing.T, srcs map[string]string) map[string]*jsonschema.Schema {
	out := map[string]*jsonschema.Schema{}
	for name, src := range srcs {
		doc, err := jsonschema.UnmarshalJSON(strings.NewReader(src))
		if err != nil {
			t.Fatal(err)
		}
		c := jsonschema.NewCompiler()
		if err := c.AddResource(name+".json", doc); err != nil {
			t.Fatal(err)
		}
		if out[name], err = c.Compile(name + ".json"); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// checkCall: a call of a known tool (want, when not empty), an id templates take back (9
// letters and digits) and arguments that validate against the tool's schema.
func checkCall(t *testing.T, schemas map[string]*jsonschema.Schema, id, name, args, want string) {
	t.Helper()
	sch, ok := schemas[name]
	if !ok || (want != "" && name != want) {
		t.Fatalf("call of %q, want %q", name, want)
	}
	if len(id) != 9 {
		t.Errorf("call id %q: want 9 letters and digits", id)
	}
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(args))
	if err != nil {
		t.Fatalf("%s arguments %q: %v", name, args, err)
	}
	if err := sch.Validate(v); err != nil {
		t.Fatalf("%s arguments %s: %v", name, args, err)
	}
}

// TestServeToolCallsOpenAI: with tool_choice "required" and a named function, openai-go
// receives tool_calls whole (non-streaming) and as deltas its accumulator joins
// (streaming), with finish_reason "tool_calls"; the calls then go back as an assistant
// message with a tool result, which the model's template renders into the prompt.
func TestServeToolCallsOpenAI(t *testing.T) {
	s := startToolServe(t)
	for _, model := range []string{"qwen-tools", "mistral-tools"} {
		t.Run(model, func(t *testing.T) { openaiToolRoundTrip(t, s, model) })
	}
}

func openaiToolRoundTrip(t *testing.T, s *served, model string) {
	c := oaClient(s)
	ctx := context.Background()
	schemas := toolSchemas(t)
	ask := []openai.ChatCompletionMessageParamUnion{openai.UserMessage("What is the weather in Paris?")}
	params := openai.ChatCompletionNewParams{Model: model, Messages: ask, Tools: oaTools(t), MaxTokens: openai.Int(300),
		Temperature: openai.Float(1), Seed: openai.Int(3),
		ToolChoice: openai.ChatCompletionToolChoiceOptionUnionParam{OfAuto: openai.String("required")}}
	r, err := c.Chat.Completions.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	ch := r.Choices[0]
	if ch.FinishReason != "tool_calls" || len(ch.Message.ToolCalls) == 0 {
		t.Fatalf("required: finish %q, %d calls, content %q", ch.FinishReason, len(ch.Message.ToolCalls), ch.Message.Content)
	}
	for _, call := range ch.Message.ToolCalls {
		if call.Type != "function" {
			t.Errorf("call type %q", call.Type)
		}
		checkCall(t, schemas, call.ID, call.Function.Name, call.Function.Arguments, "")
	}

	// A call cut off by max_tokens is not a call: the model's text comes back as it was.
	cut := params
	cut.MaxTokens = openai.Int(6)
	if r, err = c.Chat.Completions.New(ctx, cut); err != nil {
		t.Fatal(err)
	}
	if ch := r.Choices[0]; ch.FinishReason != "length" || len(ch.Message.ToolCalls) != 0 || strings.TrimSpace(ch.Message.Content) == "" {
		t.Errorf("cut-off call: finish %q, %d calls, content %q: want length, none, the text", ch.FinishReason, len(ch.Message.ToolCalls), ch.Message.Content)
	}

	// Streaming, one named function: the deltas carry id, type and name first, then
	// the arguments in fragments.
	params.ToolChoice = openai.ChatCompletionToolChoiceOptionUnionParam{OfFunctionToolChoice: &openai.ChatCompletionNamedToolChoiceParam{
		Function: openai.ChatCompletionNamedToolChoiceFunctionParam{Name: "get_time"}}}
	st := c.Chat.Completions.NewStreaming(ctx, params)
	var acc openai.ChatCompletionAccumulator
	var deltas []openai.ChatCompletionChunkChoiceDeltaToolCall
	for st.Next() {
		chunk := st.Current()
		acc.AddChunk(chunk)
		if len(chunk.Choices) > 0 {
			deltas = append(deltas, chunk.Choices[0].Delta.ToolCalls...)
		}
	}
	if err := st.Err(); err != nil {
		t.Fatal(err)
	}
	sc := acc.Choices[0]
	if sc.FinishReason != "tool_calls" || len(sc.Message.ToolCalls) != 1 {
		t.Fatalf("named, streamed: finish %q, %d calls", sc.FinishReason, len(sc.Message.ToolCalls))
	}
	call := sc.Message.ToolCalls[0]
	checkCall(t, schemas, call.ID, call.Function.Name, call.Function.Arguments, "get_time")
	// The first delta announces the call, the arguments follow in their own deltas (how
	// finely depends on the tokens; the parser's tests check it streams as written).
	if len(deltas) < 2 || deltas[0].ID != call.ID || deltas[0].Function.Name != "get_time" || deltas[0].Function.Arguments != "" || deltas[1].ID != "" {
		t.Errorf("tool_calls deltas %+v: want the call's id and name first, then argument fragments", deltas)
	}

	// The round trip: the call and its result go back, the model answers in prose
	// (tool_choice none). A longer result makes a longer prompt: the template renders it.
	promptTokens := func(result string) int64 {
		t.Helper()
		msgs := append(ask, sc.Message.ToParam(), openai.ToolMessage(result, call.ID))
		r, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: model, Messages: msgs, Tools: oaTools(t),
			MaxTokens: openai.Int(4), ToolChoice: openai.ChatCompletionToolChoiceOptionUnionParam{OfAuto: openai.String("none")}})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Choices[0].Message.ToolCalls) != 0 {
			t.Errorf("tool_choice none answered with calls")
		}
		return r.Usage.PromptTokens
	}
	short, long := promptTokens("12:00"), promptTokens("12:00 in the afternoon, local time, on a Tuesday")
	if long <= short {
		t.Errorf("tool result not in the prompt: %d prompt tokens with a long result, %d with a short one", long, short)
	}
}

// TestServeToolCallsOllama: ollama's client gets message.tool_calls with arguments as an
// object, streamed (each call whole, as ollama sends it) and not; tool_choice is olm's
// option, since ollama's API cannot force a call.
func TestServeToolCallsOllama(t *testing.T) {
	s := startToolServe(t)
	c := api.NewClient(mustURL(t, s.url), http.DefaultClient)
	var defs api.Tools
	raw := `[{"type": "function", "function": {"name": "get_weather", "parameters": ` + weatherParams + `}},
		{"type": "function", "function": {"name": "get_time", "parameters": ` + timeParams + `}}]`
	if err := json.Unmarshal([]byte(raw), &defs); err != nil {
		t.Fatal(err)
	}
	// The schemas as ollama's client sends them: its types keep type, enum and required
	// but drop maxLength, so the strings are as long as the model likes.
	sent := map[string]string{}
	for _, d := range defs {
		b, err := json.Marshal(d.Function.Parameters)
		if err != nil {
			t.Fatal(err)
		}
		sent[d.Function.Name] = string(b)
	}
	schemas := compileSchemas(t, sent)
	for _, stream := range []bool{false, true} {
		req := &api.ChatRequest{Model: "qwen-tools", Stream: &stream, Tools: defs,
			Messages: []api.Message{{Role: "user", Content: "Weather in Oslo?"}},
			Options:  map[string]any{"tool_choice": "get_weather", "temperature": 1, "seed": 5, "num_predict": 300}}
		var calls []api.ToolCall
		var last api.ChatResponse
		if err := c.Chat(context.Background(), req, func(r api.ChatResponse) error {
			calls = append(calls, r.Message.ToolCalls...)
			last = r
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if !last.Done || last.DoneReason != "stop" || len(calls) != 1 {
			t.Fatalf("stream %v: done %v (%q), %d calls", stream, last.Done, last.DoneReason, len(calls))
		}
		args, err := json.Marshal(calls[0].Function.Arguments)
		if err != nil {
			t.Fatal(err)
		}
		checkCall(t, schemas, calls[0].ID, calls[0].Function.Name, string(args), "get_weather")
	}

	// The result goes back as ollama sends it: role tool with tool_name.
	stream := false
	err := c.Chat(context.Background(), &api.ChatRequest{Model: "qwen-tools", Stream: &stream, Tools: defs, Options: map[string]any{"num_predict": 4},
		Messages: []api.Message{{Role: "user", Content: "Weather in Oslo?"},
			{Role: "assistant", ToolCalls: []api.ToolCall{{Function: api.ToolCallFunction{Name: "get_weather", Arguments: argsOf(t, `{"city": "Oslo", "unit": "C"}`)}}}},
			{Role: "tool", ToolName: "get_weather", Content: "-3 C and snow"}}},
		func(api.ChatResponse) error { return nil })
	if err != nil {
		t.Fatalf("tool result round trip: %v", err)
	}

	show, err := c.Show(context.Background(), &api.ShowRequest{Model: "qwen-tools"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(capabilityNames(show.Capabilities), ","), "tools") {
		t.Errorf("show: capabilities %v lack tools", show.Capabilities)
	}
	if show, err = c.Show(context.Background(), &api.ShowRequest{Model: "stories"}); err != nil || strings.Contains(strings.Join(capabilityNames(show.Capabilities), ","), "tools") {
		t.Errorf("show stories: capabilities %v (%v): want no tools", show.Capabilities, err)
	}
}

func argsOf(t *testing.T, s string) api.ToolCallFunctionArguments {
	var a api.ToolCallFunctionArguments
	if err := json.Unmarshal([]byte(s), &a); err != nil {
		t.Fatal(err)
	}
	return a
}

// TestServeToolErrors: each mistake with tools is a 400 naming the field, from both APIs.
func TestServeToolErrors(t *testing.T) {
	s := startToolServe(t)
	tools := `[{"type": "function", "function": {"name": "get_time", "parameters": ` + timeParams + `}}]`
	for _, c := range []struct{ name, path, body, param, want string }{
		{"template without tools", "/v1/chat/completions", `{"model": "stories", "messages": [{"role": "user", "content": "hi"}], "tools": ` + tools + `}`,
			"tools", "does not take tools"},
		{"unknown function", "/v1/chat/completions", `{"model": "qwen-tools", "messages": [{"role": "user", "content": "hi"}], "tools": ` + tools +
			`, "tool_choice": {"type": "function", "function": {"name": "nope"}}}`, "tool_choice", `"nope"`},
		{"bad tool_choice", "/v1/chat/completions", `{"model": "qwen-tools", "messages": [{"role": "user", "content": "hi"}], "tools": ` + tools +
			`, "tool_choice": "always"}`, "tool_choice", `"always"`},
		{"required without tools", "/v1/chat/completions", `{"model": "qwen-tools", "messages": [{"role": "user", "content": "hi"}], "tool_choice": "required"}`,
			"tool_choice", "needs tools"},
		{"tool result without id", "/v1/chat/completions", `{"model": "qwen-tools", "messages": [{"role": "user", "content": "hi"}, {"role": "tool", "content": "1"}]}`,
			"messages[1].tool_call_id", "tool_call_id"},
		{"arguments not an object", "/v1/chat/completions", `{"model": "qwen-tools", "messages": [{"role": "user", "content": "hi"},
			{"role": "assistant", "content": null, "tool_calls": [{"id": "abcdefghi", "type": "function", "function": {"name": "get_time", "arguments": "[1]"}}]}]}`,
			"messages[1].tool_calls[0]", "JSON object"},
		{"tool history on a template without tools", "/v1/chat/completions", `{"model": "stories", "messages": [{"role": "user", "content": "hi"},
			{"role": "assistant", "content": null, "tool_calls": [{"id": "abcdefghi", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}]},
			{"role": "tool", "tool_call_id": "abcdefghi", "content": "1"}]}`, "messages", "does not take tools"},
		{"tools and response_format", "/v1/chat/completions", `{"model": "qwen-tools", "messages": [{"role": "user", "content": "hi"}], "tools": ` + tools +
			`, "tool_choice": "required", "response_format": {"type": "json_object"}}`, "response_format", "cannot both"},
		{"bad tool definition", "/v1/chat/completions", `{"model": "qwen-tools", "messages": [{"role": "user", "content": "hi"}], "tools": [{"type": "function", "function": {"name": "a b"}}]}`,
			"tools", "function name"},
		{"tools on completions", "/v1/completions", `{"model": "qwen-tools", "prompt": "hi", "tools": ` + tools + `}`, "tools", "chat/completions"},
		{"ollama: template without tools", "/api/chat", `{"model": "stories", "stream": false, "messages": [{"role": "user", "content": "hi"}], "tools": ` + tools + `}`,
			"", "does not take tools"},
		{"ollama: unknown forced function", "/api/chat", `{"model": "qwen-tools", "stream": false, "messages": [{"role": "user", "content": "hi"}], "tools": ` + tools +
			`, "options": {"tool_choice": "nope"}}`, "", `"nope"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, err := http.Post(s.url+c.path, "application/json", strings.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct {
				Error json.RawMessage `json:"error"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d: %s", resp.StatusCode, body.Error)
			}
			var msg, param string
			var oe struct{ Message, Param string }
			if json.Unmarshal(body.Error, &msg) != nil { // ollama's error is a string, OpenAI's an object
				if err := json.Unmarshal(body.Error, &oe); err != nil {
					t.Fatalf("error body %s: %v", body.Error, err)
				}
				msg, param = oe.Message, oe.Param
			}
			if !strings.Contains(msg, c.want) || param != c.param || strings.Contains(msg, "\n") {
				t.Errorf("error %q (param %q), want %q (param %q)", msg, param, c.want, c.param)
			}
		})
	}
	// openai-go sees the refusal as its own error type.
	oc := oaClient(s)
	_, err := oc.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "stories",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}, Tools: oaTools(t)})
	var oe *openai.Error
	if !errors.As(err, &oe) || oe.StatusCode != 400 || oe.Param != "tools" {
		t.Errorf("openai-go: %v", err)
	}
}

func capabilityNames[T ~string](caps []T) []string {
	out := make([]string, len(caps))
	for i, c := range caps {
		out[i] = string(c)
	}
	return out
}
