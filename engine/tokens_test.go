package engine

import (
	"slices"
	"testing"

	"github.com/olm-dev/olm/runner"
)

// TestAnswerTokens: an answer is spelled with the tokens the model sampled, completed with
// the last token (never evaluated) and cut where the text was (a stop string).
func TestAnswerTokens(t *testing.T) {
	for _, path := range []string{llamaChatML, qwenChatML} {
		m := open(t, "tiny", path, 256)
		defer m.Close()
		lm := m.LM
		// As sampled: " Hello world" one word per token (SentencePiece: "▁Hello" "▁world").
		want := append(tokenOf(t, lm, " Hello"), tokenOf(t, lm, " world")...)
		for name, gen := range map[string][]runner.Token{
			"all evaluated":      want,
			"last not evaluated": want[:len(want)-1],
			"stop string after":  append(slices.Clone(want), tokenOf(t, lm, " the")...), // cut as a stop string
		} {
			got := answerTokens(lm, gen, " Hello world")
			if !slices.Equal(got, want) {
				t.Errorf("%s: %s: got %v, want %v", path, name, got, want)
			}
		}
	}
}

// tokenOf is how the model would sample w (without the tokenizer's added space prefix).
func tokenOf(t *testing.T, lm *runner.Model, w string) []runner.Token {
	t.Helper()
	toks, err := lm.Tokenize(w, false, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(toks) == 2 && spell(lm, toks[:1]) == " " { // SentencePiece's added space
		toks = toks[1:]
	}
	if spell(lm, toks) != w {
		t.Fatalf("%q tokenizes to %v (%q)", w, toks, spell(lm, toks))
	}
	return toks
}
