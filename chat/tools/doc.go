// Package tools is the tool-calling layer between an API and a model's chat template:
// tool definitions (Tool, ParseTools), which output format a template's model writes
// (Family, Detect), the parser that turns that output into calls, whole (Parse) or while
// it streams (Parser, with argument fragments for OpenAI-style deltas), and the framing a
// grammar needs to force a call for tool_choice "required" or a named function
// (Require; grammar.Framed builds the grammar). It is pure Go.
//
// The neutral form of a call is template.ToolCall: an id, the function's name and its
// arguments as JSON object text; OpenAI wants the arguments as a string, ollama as an
// object, and both are that text.
package tools
