// Package repl is olm's chat: a Session that keeps a conversation, renders it with the
// model's chat template and streams answers, and a line-oriented REPL around it with
// slash commands.
//
// Every turn re-renders the whole conversation. That is cheap because runner.Generate
// keeps the longest prefix the KV cache shares with the new prompt, so a turn evaluates
// only what is new since the last one: time to first token does not grow with history.
//
// Context accounting is visible: Session warns once when the context passes 90%, drops the
// oldest turns (never the system prompt) when the next one would not fit and says so, and
// refuses, with a clear error, a message too large for the context on its own.
//
// The terminal is reached only through LineReader and io.Writers, and models only through
// a Loader, so tests script whole sessions with tiny models.
package repl
