package template

// Template renders conversations for one prompt format.
type Template interface {
	// Name identifies the template: a built-in name, or "jinja" plus where
	// the Jinja text came from.
	Name() string
	// Render turns messages into a prompt; with addGenerationPrompt the
	// prompt ends where the assistant's next answer starts.
	Render(msgs []Message, addGenerationPrompt bool) (Prompt, error)
	// Stops lists strings that end the assistant's answer when generated.
	Stops() []string
}

// Tokens are the texts of a model's special tokens, as the GGUF vocabulary
// spells them; Jinja templates refer to them as bos_token and eos_token.
type Tokens struct {
	BOS string
	EOS string
}
