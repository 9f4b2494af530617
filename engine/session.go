package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/olm-dev/olm/chat/template"
	"github.com/olm-dev/olm/runner"
)

// Settings start a Session.
type Settings struct {
	System string
	Params Params
	Stops  []string  // stop strings beside the template's own (--stop)
	Notice io.Writer // dropped turns and context warnings; nil discards them
}

// Session is one conversation with one model at a time.
type Session struct {
	model  *Model
	system string
	msgs   []template.Message // user and assistant turns, oldest first
	params Params
	stops  []string
	notice io.Writer

	sampled map[string][]runner.Token // answers in msgs, as the model's tokens (see answerTokens)

	last    TurnStats
	hasLast bool
	warned  bool // the 90% warning was given and the context has not emptied since
}

// Answer is the outcome of one turn.
type Answer struct {
	Text    string // as streamed: an answer cut mid-character ends in a partial UTF-8 sequence
	Stats   TurnStats
	Dropped int // oldest turns dropped to make room
	// Notices are said after the answer (the context is nearly full, the answer was cut):
	// the terminal prints them on a line of their own once the answer's line is ended.
	Notices []string
}

// ErrNothingToRetry is returned by Retry before any question was asked.
var ErrNothingToRetry = errors.New("nothing to retry: ask something first")

// NewSession starts a conversation with m, which it owns from now on (Close frees it).
func NewSession(m *Model, s Settings) (*Session, error) {
	if err := s.Params.Sampling.Validate(); err != nil {
		return nil, err
	}
	if s.Notice == nil {
		s.Notice = io.Discard
	}
	return &Session{model: m, system: s.System, params: s.Params, stops: s.Stops, notice: s.Notice}, nil
}

// Close frees the model.
func (s *Session) Close() {
	if s.model != nil {
		s.model.Close()
	}
}

// Model is the model answering now.
func (s *Session) Model() *Model { return s.model }

// Params are the current generation settings.
func (s *Session) Params() Params { return s.params }

// System is the system prompt ("" for none).
func (s *Session) System() string { return s.system }

// Messages returns a copy of the conversation's turns.
func (s *Session) Messages() []template.Message { return slices.Clone(s.msgs) }

// LastStats describes the last answer; false before the first.
func (s *Session) LastStats() (TurnStats, bool) { return s.last, s.hasLast }

// SetSystem replaces the system prompt; "" removes it.
func (s *Session) SetSystem(text string) { s.system = text }

// Clear forgets the turns but keeps the system prompt. The KV cache is left alone: the
// next prompt shares its prefix.
func (s *Session) Clear() { s.msgs = nil }

// Set changes one generation setting; on error nothing changes.
func (s *Session) Set(key, value string) error {
	p, err := s.params.With(key, value)
	if err != nil {
		return err
	}
	s.params = p
	return nil
}

// SwitchModel makes m answer from now on, keeping the conversation, and frees the old model
// unless ReleaseModel already did.
func (s *Session) SwitchModel(m *Model) {
	old := s.model
	s.model, s.warned, s.sampled = m, false, nil // tokens of one vocabulary mean nothing in another
	if old != nil {
		old.Close()
	}
}

// ReleaseModel frees the current model ahead of a SwitchModel; until then the session
// has no model and must not answer.
func (s *Session) ReleaseModel() {
	if s.model != nil {
		s.model.Close()
		s.model = nil
	}
}

// Transcript is the conversation as /save writes it.
func (s *Session) Transcript() Transcript {
	return Transcript{Model: s.model.Name, System: s.system, Messages: s.Messages()}
}

// Restore replaces the conversation with t's (the model stays).
func (s *Session) Restore(t Transcript) {
	s.system, s.msgs = t.System, slices.Clone(t.Messages)
}

// Ask sends a user message and streams the answer through emit.
func (s *Session) Ask(ctx context.Context, text string, emit func([]byte) error) (Answer, error) {
	if strings.TrimSpace(text) == "" {
		return Answer{}, errors.New("empty message")
	}
	msgs := append(slices.Clone(s.msgs), template.Message{Role: template.RoleUser, Content: text})
	return s.answer(ctx, msgs, emit)
}

// Retry answers the last user message again, replacing the answer it had.
func (s *Session) Retry(ctx context.Context, emit func([]byte) error) (Answer, error) {
	msgs := slices.Clone(s.msgs)
	for len(msgs) > 0 && msgs[len(msgs)-1].Role != template.RoleUser {
		msgs = msgs[:len(msgs)-1]
	}
	if len(msgs) == 0 {
		return Answer{}, ErrNothingToRetry
	}
	return s.answer(ctx, msgs, emit)
}

// answer generates the assistant's reply to msgs, which end with a user turn. The session
// changes only once text was produced: an error or an interruption before the first token
// leaves it as it was.
func (s *Session) answer(ctx context.Context, msgs []template.Message, emit func([]byte) error) (Answer, error) {
	prompt, kept, dropped, err := s.fit(msgs)
	if err != nil {
		return Answer{}, err
	}
	turns := countTurns(dropped)
	if turns == 1 {
		fmt.Fprintf(s.notice, "dropped the oldest turn to fit the context (%d tokens): %s\n", s.model.Engine.SlotCtx(), describeTurns(dropped))
	} else if turns > 1 {
		fmt.Fprintf(s.notice, "dropped the %d oldest turns to fit the context (%d tokens): %s\n", turns, s.model.Engine.SlotCtx(), describeTurns(dropped))
	}
	var text bytes.Buffer
	req := Request{Prompt: prompt, Sampling: s.params.Sampling, MaxTokens: s.params.MaxTokens, Stop: s.StopStrings()}
	res, err := s.model.Engine.Generate(ctx, req, func(b []byte) error {
		text.Write(b)
		return emit(b)
	})
	if err != nil {
		return Answer{}, fmt.Errorf("answer: %w", err)
	}
	a := Answer{Text: text.String(), Stats: newStats(res), Dropped: turns}
	s.last, s.hasLast = a.Stats, true
	if res.Reason == runner.StopCancelled && a.Text == "" {
		return a, nil
	}
	// An answer cut mid-character (max tokens, Ctrl-C) ends in a broken UTF-8 sequence; the
	// conversation keeps text, so /save and the template see valid UTF-8.
	content := strings.ToValidUTF8(a.Text, "\uFFFD")
	s.msgs = append(kept, template.Message{Role: template.RoleAssistant, Content: content})
	s.remember(content, a.Text, res.Generated)
	if res.Reason == runner.StopContextFull {
		a.Notices = append(a.Notices, fmt.Sprintf("the answer was cut: the context is full (%d tokens)", a.Stats.CtxSize))
	}
	if n := s.nearlyFull(a.Stats); n != "" {
		a.Notices = append(a.Notices, n)
	}
	return a, nil
}

// remember keeps the sampled tokens of the new answer, and of those answers still in the
// conversation, so that re-rendering the conversation matches the KV cache. The tokens
// spell raw, the text as streamed, even where content (its valid UTF-8 form) differs: the
// model is shown what it generated.
func (s *Session) remember(content, raw string, gen []runner.Token) {
	kept := map[string][]runner.Token{}
	for _, m := range s.msgs {
		if t, ok := s.sampled[m.Content]; ok && m.Role == template.RoleAssistant {
			kept[m.Content] = t
		}
	}
	if t := answerTokens(s.model.LM, gen, raw); t != nil {
		kept[content] = t
	}
	s.sampled = kept
}

// nearlyFull says once, when the context passes 90%, what will happen next.
func (s *Session) nearlyFull(st TurnStats) string {
	full := st.CtxUsed*10 >= st.CtxSize*9
	warn := full && !s.warned
	s.warned = full
	if !warn {
		return ""
	}
	return fmt.Sprintf("context %d%% full (%d of %d tokens): the oldest turns will be dropped when the next does not fit; /clear starts afresh",
		percent(st.CtxUsed, st.CtxSize), st.CtxUsed, st.CtxSize)
}

// StopStrings are the template's stop strings and the user's (--stop).
func (s *Session) StopStrings() []string {
	return append(slices.Clone(s.model.Template.Stops()), s.stops...)
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

func countTurns(msgs []template.Message) int {
	n := 0
	for _, m := range msgs {
		if m.Role == template.RoleUser {
			n++
		}
	}
	return n
}

// describeTurns names dropped turns by the start of their user message, so the user sees
// what the model no longer remembers.
func describeTurns(turns []template.Message) string {
	var names []string
	for _, m := range turns {
		if m.Role != template.RoleUser {
			continue
		}
		t := strings.Join(strings.Fields(m.Content), " ")
		if r := []rune(t); len(r) > 24 {
			t = string(r[:24]) + "…"
		}
		names = append(names, fmt.Sprintf("%q", t))
	}
	return strings.Join(names, ", ")
}
