package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/olm-dev/olm/runner"
)

type tokenizeOptions struct {
	ios       *ioStreams
	model     string
	text      string
	hasText   bool
	jsonOut   bool
	noSpecial bool
	noBOS     bool
	idsOnly   bool
}

func newTokenizeCmd(ios *ioStreams, runF func(context.Context, *tokenizeOptions) error) *cobra.Command {
	o := &tokenizeOptions{ios: ios}
	cmd := &cobra.Command{
		Use:   "tokenize MODEL [TEXT]",
		Short: "Show the tokens a model's tokenizer makes of a text, as llama-tokenize does",
		Long: "Tokenize TEXT (or stdin) with MODEL's vocabulary and print each token's id and piece, one per\n" +
			"line: the way to see why a prompt behaves oddly. Only the vocabulary is read, not the weights.\n\n" +
			"As olm run does, BOS is added when the model asks for it. Text that spells a control token\n" +
			"(\"</s>\", \"<|im_end|>\") becomes that token, as in a chat template; --no-special keeps it as\n" +
			"literal text, as olm treats what a user types.",
		Example: "  olm tokenize ./model.gguf \"Hello world\"\n" +
			"  olm tokenize mistral '[INST] hi [/INST]' --json\n" +
			"  echo '</s>' | olm tokenize ./model.gguf --no-special",
		Args: argsBetween(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.model = args[0]
			if len(args) == 2 {
				o.text, o.hasText = args[1], true
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runTokenize(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.jsonOut, "json", false, `print [{"id":..,"piece":".."}, ...]`)
	f.BoolVar(&o.noSpecial, "no-special", false, "keep control-token text (</s>, <|im_end|>) as literal text")
	f.BoolVar(&o.noBOS, "no-bos", false, "do not add BOS/EOS even when the model asks for them")
	f.BoolVar(&o.idsOnly, "ids", false, "print only the ids, as a list")
	return cmd
}

type tokenPiece struct {
	ID    runner.Token `json:"id"`
	Piece string       `json:"piece"`
}

func runTokenize(ctx context.Context, o *tokenizeOptions) error {
	text := o.text
	if !o.hasText {
		if o.ios.InTTY {
			return errors.New("no text: give it as an argument or pipe it on stdin")
		}
		b, err := io.ReadAll(o.ios.In)
		if err != nil {
			return fmt.Errorf("read text from stdin: %w", err)
		}
		text = string(b)
	}
	rm, err := resolveModel(ctx, o.ios, o.model)
	if err != nil {
		return err
	}
	m, err := runner.LoadVocab(ctx, rm.Path)
	if err != nil {
		return err
	}
	defer m.Close()
	toks, err := m.Tokenize(text, !o.noBOS, !o.noSpecial)
	if err != nil {
		return err
	}
	pieces := make([]tokenPiece, len(toks))
	for i, t := range toks {
		pieces[i] = tokenPiece{ID: t, Piece: printablePiece(m.Piece(nil, t, true))}
	}
	w := o.ios.Out
	switch {
	case o.jsonOut:
		if pieces == nil {
			pieces = []tokenPiece{}
		}
		e := json.NewEncoder(w)
		e.SetEscapeHTML(false)
		return e.Encode(pieces)
	case o.idsOnly:
		ids := make([]runner.Token, len(toks))
		copy(ids, toks)
		b, _ := json.Marshal(ids)
		_, err := fmt.Fprintln(w, string(b))
		return err
	}
	for _, p := range pieces {
		fmt.Fprintf(w, "%6d -> %s\n", p.ID, strconv.Quote(p.Piece))
	}
	return nil
}

// printablePiece is a piece as text; a piece that is part of a UTF-8 character (byte
// tokens) is shown as its bytes, <0xE6>, rather than as a replacement character.
func printablePiece(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	s := ""
	for _, c := range b {
		s += fmt.Sprintf("<0x%02X>", c)
	}
	return s
}
