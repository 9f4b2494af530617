package engine

import (
	"fmt"

	"github.com/olm-dev/olm/chat/template"
	"github.com/olm-dev/olm/runner"
)

// defaultReserve is the room kept for an answer when --max-tokens does not say.
const defaultReserve = 512

// fit renders msgs and makes the prompt fit the context with room for an answer, dropping
// the oldest turns (never the system prompt) until it does. It returns the prompt's tokens,
// the messages kept and those that went.
func (s *Session) fit(msgs []template.Message) ([]runner.Token, []template.Message, []template.Message, error) {
	size := s.model.Engine.SlotCtx()
	room := s.reserve(size)
	toks, err := s.render(msgs)
	if err != nil || len(toks)+room <= size {
		return toks, msgs, nil, err
	}
	// Dropping helps only if the newest turn fits by itself; if not, keep the history.
	last := lastTurn(msgs)
	alone, err := s.render(last)
	if err != nil {
		return nil, nil, nil, err
	}
	if len(alone) >= size {
		return nil, nil, nil, &ContextError{Tokens: len(alone), Ctx: size}
	}
	var dropped []template.Message
	for len(toks)+room > size && len(msgs) > len(last) {
		n := firstTurnLen(msgs)
		dropped, msgs = append(dropped, msgs[:n]...), msgs[n:]
		if toks, err = s.render(msgs); err != nil {
			return nil, nil, nil, err
		}
	}
	return toks, msgs, dropped, nil
}

// reserve is the room kept for the answer: --max-tokens or defaultReserve, at most a
// quarter of the context so that long answers do not empty the history.
func (s *Session) reserve(size int) int {
	want := defaultReserve
	if s.params.MaxTokens > 0 {
		want = s.params.MaxTokens
	}
	return min(want, size/4)
}

// render turns the system prompt and msgs into prompt tokens, ready for the answer.
func (s *Session) render(msgs []template.Message) ([]runner.Token, error) {
	all := msgs
	if s.system != "" {
		all = append([]template.Message{{Role: template.RoleSystem, Content: s.system}}, msgs...)
	}
	p, err := s.model.Template.Render(all, true)
	if err != nil {
		return nil, fmt.Errorf("render the conversation with template %s: %w", s.model.Template.Name(), err)
	}
	return tokenizePrompt(s.model.LM, p, s.sampled)
}

// lastTurn is msgs from the last user message on.
func lastTurn(msgs []template.Message) []template.Message {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == template.RoleUser {
			return msgs[i:]
		}
	}
	return msgs
}

// firstTurnLen is the length of the oldest turn: its first message and the replies up to
// the next user message. Whole turns go, so user and assistant keep alternating, which
// some templates insist on.
func firstTurnLen(msgs []template.Message) int {
	n := 1
	for n < len(msgs) && msgs[n].Role != template.RoleUser {
		n++
	}
	return n
}
