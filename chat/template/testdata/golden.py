# Regenerates golden/*.txt: each real template rendered the way Hugging Face's
# apply_chat_template renders it (jinja2 sandbox, trim_blocks and lstrip_blocks on,
# loopcontrols, raise_exception, tojson with ensure_ascii=False). Needs only jinja2.
#   python3 golden.py
import json, pathlib
import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment
from templates import TEMPLATES, TOKENS

# Conversations shared with the Go tests (see conversations_test.go).
CONVERSATIONS = {
    "sys": [
        {"role": "system", "content": "You are a terse assistant."},
        {"role": "user", "content": "Hello!"},
        {"role": "assistant", "content": "Hi. How can I help?"},
        {"role": "user", "content": "What is 2+2?"},
    ],
    "nosys": [
        {"role": "user", "content": "Hello!"},
        {"role": "assistant", "content": "Hi. How can I help?"},
        {"role": "user", "content": "What is 2+2?"},
    ],
    # Contents with edge whitespace: templates that strip() them must still render exactly.
    "spaces": [
        {"role": "user", "content": "  Hello!  "},
        {"role": "assistant", "content": " Hi.\n"},
        {"role": "user", "content": "\tWhat is 2+2? "},
    ],
}

# Tool definitions with keys in sorted order (the Go side cannot keep insertion order).
TOOLS = [{"function": {"description": "Get the weather", "name": "get_weather",
          "parameters": {"properties": {"city": {"type": "string"}}, "required": ["city"], "type": "object"}},
          "type": "function"}]


# Tool definitions as clients send them (insertion order, which OrderedJSON keeps), and
# conversations with tool calls and results; tool call ids are 9 alphanumerics because
# Mistral's template refuses others.
TOOLS_ORDERED = [
    {"type": "function", "function": {"name": "get_weather", "description": "Get the weather",
     "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}},
    {"type": "function", "function": {"name": "get_time", "description": "Get the local time",
     "parameters": {"type": "object", "properties": {"zone": {"type": "string"}}, "required": ["zone"]}}},
]
TOOL_CONVERSATIONS = {
    "toolcall": [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "call00001", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
        {"role": "tool", "tool_call_id": "call00001", "name": "get_weather", "content": "{\"temp\": 21}"},
    ],
    "toolcalls": [
        {"role": "system", "content": "You are a terse assistant."},
        {"role": "user", "content": "Weather and time in Paris?"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "call00001", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}},
            {"id": "call00002", "type": "function", "function": {"name": "get_time", "arguments": {"zone": "Europe/Paris"}}}]},
        {"role": "tool", "tool_call_id": "call00001", "name": "get_weather", "content": "{\"temp\": 21}"},
        {"role": "tool", "tool_call_id": "call00002", "name": "get_time", "content": "14:05"},
    ],
}
TOOL_TEMPLATES = ["qwen2.5", "mistral-v0.3"]


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def render(src, bos, eos, messages, **extra):
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    return env.from_string(src).render(messages=messages, add_generation_prompt=True,
                                       bos_token=bos, eos_token=eos, **extra)


if __name__ == "__main__":
    here = pathlib.Path(__file__).parent
    out = here / "golden"
    out.mkdir(exist_ok=True)
    for name in TEMPLATES:
        src = (here / "jinja" / f"{name}.jinja").read_text()
        bos, eos = TOKENS[name]
        cases = dict(CONVERSATIONS)
        for conv, messages in cases.items():
            try:
                text, ext = render(src, bos, eos, messages), "txt"
            except jinja2.exceptions.TemplateError as e:
                text, ext = str(e), "err"
            (out / f"{name}.{conv}.{ext}").write_text(text)
        if name == "qwen2.5":
            (out / f"{name}.tools.txt").write_text(render(src, bos, eos, CONVERSATIONS["sys"], tools=TOOLS))
        if name in TOOL_TEMPLATES:
            (out / f"{name}.toolsordered.txt").write_text(render(src, bos, eos, CONVERSATIONS["nosys"], tools=TOOLS_ORDERED))
            for conv, messages in TOOL_CONVERSATIONS.items():
                (out / f"{name}.{conv}.txt").write_text(render(src, bos, eos, messages, tools=TOOLS_ORDERED))
