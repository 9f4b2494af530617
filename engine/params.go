package engine

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/olm-dev/olm/grammar"
	"github.com/olm-dev/olm/runner"
)

// Params are the generation settings /set changes.
type Params struct {
	Sampling  runner.SamplingParams
	MaxTokens int // <= 0: until the model stops or the context is full
	// Format names the constraint on answers for /show: "json", a schema file, "" for
	// none. The grammar itself is in Sampling.Grammar.
	Format string
}

// WithFormat returns p constrained to format: "json" (any JSON object), "off", or the
// path of a JSON Schema file.
func (p Params) WithFormat(format string) (Params, error) {
	g, err := grammar.ParseFormat(format)
	if err != nil {
		return p, err
	}
	p.Format = format
	if g.IsZero() {
		p.Format = ""
	}
	p.Sampling.Grammar, p.Sampling.GrammarRoot = g.Text, g.Root
	return p, nil
}

// SetKeys are the keys /set accepts, in the order /help and /show list them.
func SetKeys() []string {
	return []string{"temp", "top-k", "top-p", "min-p", "seed", "repeat-penalty", "max-tokens", "format"}
}

// With returns p with key set to value, validated; p itself is unchanged, so a bad value
// leaves the session as it was.
func (p Params) With(key, value string) (Params, error) {
	value = strings.TrimSpace(value)
	var err error
	switch strings.ToLower(key) {
	case "format":
		return p.WithFormat(value)
	case "temp", "temperature":
		p.Sampling.Temp, err = strconv.ParseFloat(value, 64)
	case "top-k", "top_k":
		p.Sampling.TopK, err = strconv.Atoi(value)
	case "top-p", "top_p":
		p.Sampling.TopP, err = strconv.ParseFloat(value, 64)
	case "min-p", "min_p":
		p.Sampling.MinP, err = strconv.ParseFloat(value, 64)
	case "seed":
		p.Sampling.Seed, err = strconv.ParseInt(value, 10, 64)
	case "repeat-penalty", "repeat_penalty":
		p.Sampling.RepeatPenalty, err = strconv.ParseFloat(value, 64)
	case "max-tokens", "max_tokens", "n":
		p.MaxTokens, err = strconv.Atoi(value)
		if err == nil && (p.MaxTokens == 0 || p.MaxTokens < -1) {
			return p, fmt.Errorf("max-tokens %d: must be positive, or -1 for no limit", p.MaxTokens)
		}
	default:
		return p, fmt.Errorf("unknown setting %q; use one of %s", key, strings.Join(SetKeys(), ", "))
	}
	if err != nil {
		return p, fmt.Errorf("%s %q: not a number", key, value)
	}
	if err := p.Sampling.Validate(); err != nil {
		// Validate speaks in flags ("--temp -1: ..."); here the user typed a key.
		return p, errors.New(strings.TrimPrefix(err.Error(), "--"))
	}
	return p, nil
}

// String lists the settings on one line, for /show.
func (p Params) String() string {
	s := p.Sampling
	maxTok := "none"
	if p.MaxTokens > 0 {
		maxTok = strconv.Itoa(p.MaxTokens)
	}
	seed := "random"
	if s.Seed >= 0 {
		seed = strconv.FormatInt(s.Seed, 10)
	}
	format := "off"
	if p.Format != "" {
		format = p.Format
	}
	return fmt.Sprintf("temp %g, top-k %d, top-p %g, min-p %g, seed %s, repeat-penalty %g, max-tokens %s, format %s",
		s.Temp, s.TopK, s.TopP, s.MinP, seed, s.RepeatPenalty, maxTok, format)
}
