// Package template renders a chat conversation into the exact prompt text a
// model expects.
//
// Two kinds of templates exist: a model's own Jinja chat template (as shipped
// in GGUF metadata, rendered like Hugging Face's apply_chat_template) and
// built-in Go templates for models whose GGUF carries none or a wrong one.
// Select decides which one applies and says why.
//
// A rendered Prompt keeps message contents apart from template scaffolding
// (Part.Literal), so the tokenizer can parse special tokens in the scaffolding
// only: a user who types "</s>" or "[INST]" gets plain text, not control tokens.
//
// # Jinja support
//
// Templates run on gonja v2 with trim_blocks and lstrip_blocks on, with the
// variables messages, bos_token, eos_token, add_generation_prompt and (when
// given) tools, and the globals raise_exception (which becomes a
// *RaisedError) and strftime_now. tojson is replaced by a Python-compatible
// one. Checked against jinja2: namespace(), loop.first/last/index0/length,
// message['role'] and message.role, slicing ([1:], [::-1]), str methods
// (strip, startswith, split, ...), is defined/string, break/continue,
// macros, selectattr/map/join/trim filters, dict literals and .items().
//
// Tool calls and results (Message.ToolCalls, role "tool") and tool
// definitions reach the template in OpenAI's shape, as HF passes them; JSON
// given through OrderedJSON keeps its key order through tojson and
// .items(). Lists index from the end as Python's do (gonja's own x[-1] misses
// a one-item list's item). TakesTools says whether a template renders tools.
//
// Known gaps: Python %-formatting ('%s' % x) fails with an error; an
// undefined attribute tests as `none` (jinja2 says it is not); tojson sorts
// the keys of Go maps (dict literals and OrderedJSON values keep their order,
// HF keeps insertion order); HF's {% generation %} tag is not known, so such a template fails
// to parse and Select falls back to a built-in. Engine panics become errors.
//
// Contents are located by rendering twice, with placeholders and with the
// real text; templates that transform contents beyond trimming edge
// whitespace, or branch on their value, yield Prompt.Unprotected.
//
// testdata/templates.py holds the real templates exactly as their
// tokenizer_config.json files spell them; testdata/golden.py renders the
// goldens with Python's jinja2 the way HF does.
package template
