package repl

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
	model   *Model
	system  string
	msgs    []template.Message // user and assistant turns, oldest first
	params  Params
	stops   []string
	sampler *runner.Sampler
	notice  io.Writer

	sampled map[string][]runner.Token // answers in msgs, as the model's tokens (see answerTokens)

	last    Stats
	hasLast bool
	warned  bool // the 90% warning was given and the context has not emptied since
}

// Answer is the outcome of one turn.
type Answer struct {
	Text    string // as streamed: an answer cut mid-character ends in a partial UTF-8 sequence
	Stats   Stats
	Dropped int // oldest turns dropped to make room
}

// ErrNothingToRetry is returned by Retry before any question was asked.
var ErrNothingToRetry = errors.New("nothing to retry: ask something first")

// NewSession starts a conversation with m, which it owns from now on (Close frees it).
func NewSession(m *Model, s Settings) (*Session, error) {
	smp, err := runner.NewSampler(s.Params.Sampling)
	if err != nil {
		return nil, err
	}
	if s.Notice == nil {
		s.Notice = io.Discard
	}
	return &Session{model: m, system: s.System, params: s.Params, stops: s.Stops, sampler: smp, notice: s.Notice}, nil
}

// Close frees the model and the sampler.
func (s *Session) Close() {
	if s.model != nil {
		s.model.Close()
	}
	s.sampler.Close()
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
func (s *Session) LastStats() (Stats, bool) { return s.last, s.hasLast }

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
	smp, err := runner.NewSampler(p.Sampling)
	if err != nil {
		return err
	}
	s.sampler.Close()
	s.sampler, s.params = smp, p
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
	prompt, msgs, dropped, err := s.fit(msgs)
	if err != nil {
		return Answer{}, err
	}
	if dropped > 0 {
		fmt.Fprintf(s.notice, "dropped %d oldest %s to fit the context (%d tokens)\n", dropped, plural(dropped, "turn"), s.model.Ctx.Size())
	}
	var text bytes.Buffer
	opts := runner.GenerateOptions{MaxTokens: s.params.MaxTokens, Stop: s.stopStrings(), Sampler: s.sampler}
	res, err := s.model.Ctx.Generate(ctx, prompt, opts, func(b []byte) error {
		text.Write(b)
		return emit(b)
	})
	if err != nil {
		return Answer{}, fmt.Errorf("answer: %w", err)
	}
	a := Answer{Text: text.String(), Stats: newStats(res, s.model.Ctx), Dropped: dropped}
	s.last, s.hasLast = a.Stats, true
	if res.Reason == runner.StopCancelled && a.Text == "" {
		return a, nil
	}
	// An answer cut mid-character (max tokens, Ctrl-C) ends in a broken UTF-8 sequence; the
	// conversation keeps text, so /save and the template see valid UTF-8.
	content := strings.ToValidUTF8(a.Text, "\uFFFD")
	s.msgs = append(msgs, template.Message{Role: template.RoleAssistant, Content: content})
	s.remember(content, a.Text, s.model.Ctx.Cached()[min(len(prompt), s.model.Ctx.Used()):])
	if res.Reason == runner.StopContextFull {
		fmt.Fprintf(s.notice, "the answer was cut: the context is full (%d tokens)\n", a.Stats.CtxSize)
	}
	s.warnIfNearlyFull(a.Stats)
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

// warnIfNearlyFull says once, when the context passes 90%, what will happen next.
func (s *Session) warnIfNearlyFull(st Stats) {
	full := st.CtxUsed*10 >= st.CtxSize*9
	if full && !s.warned {
		fmt.Fprintf(s.notice, "context %d%% full (%d of %d tokens): the oldest turns will be dropped when the next does not fit; /clear starts afresh\n",
			percent(st.CtxUsed, st.CtxSize), st.CtxUsed, st.CtxSize)
	}
	s.warned = full
}

func (s *Session) stopStrings() []string {
	return append(slices.Clone(s.model.Template.Stops()), s.stops...)
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
