package template

// Conversations shared by the golden tests; testdata/golden.py renders the
// same ones with Python's jinja2 the way Hugging Face does.
var conversations = map[string][]Message{
	"sys": {
		{Role: "system", Content: "You are a terse assistant."},
		{Role: "user", Content: "Hello!"},
		{Role: "assistant", Content: "Hi. How can I help?"},
		{Role: "user", Content: "What is 2+2?"},
	},
	"nosys": {
		{Role: "user", Content: "Hello!"},
		{Role: "assistant", Content: "Hi. How can I help?"},
		{Role: "user", Content: "What is 2+2?"},
	},
	"spaces": {
		{Role: "user", Content: "  Hello!  "},
		{Role: "assistant", Content: " Hi.\n"},
		{Role: "user", Content: "\tWhat is 2+2? "},
	},
}
