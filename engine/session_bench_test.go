package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/olm-dev/olm/chat/template"
)

// BenchmarkTurnTTFT measures time to first token of a new turn after a history of N
// turns. With the KV cache reused, a turn evaluates only its own tokens, so ttft-ms stays
// flat as N grows; the cold variants empty the cache first to show what reuse saves.
//
//	go test ./engine -run '^$' -bench TurnTTFT
func BenchmarkTurnTTFT(b *testing.B) {
	for _, turns := range []int{1, 8, 32} {
		for _, cold := range []bool{false, true} {
			name := fmt.Sprintf("history=%d", turns)
			if cold {
				name += "/cold"
			}
			b.Run(name, func(b *testing.B) { benchTurn(b, turns, cold) })
		}
	}
}

func benchTurn(b *testing.B, turns int, cold bool) {
	s, _ := newSession(b, llamaChatML, 4096, 1)
	history := Transcript{System: "You are a test model"}
	for i := range turns {
		history.Messages = append(history.Messages,
			template.Message{Role: template.RoleUser, Content: fmt.Sprintf("question %d: %s", i, strings.Repeat("the cat and the dog ", 4))},
			template.Message{Role: template.RoleAssistant, Content: strings.Repeat("yes it is the answer ", 4)})
	}
	ctx := context.Background()
	s.Restore(history)
	if _, err := s.Ask(ctx, "warm up", discard); err != nil { // fills the cache with the history
		b.Fatal(err)
	}
	var ttft time.Duration
	var evaluated, promptTokens int
	b.ResetTimer()
	for i := range b.N {
		s.Restore(history) // each iteration is turn N+1 after the same history
		if cold {          // a system prompt never seen before: nothing of the cache matches
			s.SetSystem(fmt.Sprintf("You are test model %d", i))
		}
		a, err := s.Ask(ctx, fmt.Sprintf("new question %d", i), discard)
		if err != nil {
			b.Fatal(err)
		}
		ttft += a.Stats.TTFT
		evaluated += a.Stats.PromptEvaluated
		promptTokens = a.Stats.PromptTokens
	}
	b.ReportMetric(float64(ttft.Microseconds())/1000/float64(b.N), "ttft-ms")
	b.ReportMetric(float64(evaluated)/float64(b.N), "evaluated/op")
	b.ReportMetric(float64(promptTokens), "prompt-tokens")
}
