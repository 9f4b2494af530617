package engine

import (
	"errors"
	"fmt"

	"github.com/olm-dev/olm/runner"
)

// The engine's errors speak in its own terms; cmd/olm and the server turn them into flag
// hints and HTTP statuses.
var (
	// ErrQueueFull: every slot is busy and the admission queue is at its bound.
	ErrQueueFull = errors.New("engine: all slots busy and the queue is full")
	// ErrClosed: the engine was closed before or while the request ran.
	ErrClosed = errors.New("engine: closed")
	// ErrEmptyPrompt: a request without a single prompt token.
	ErrEmptyPrompt = errors.New("engine: empty prompt")
)

// ContextError says that a prompt does not fit one slot's context. It matches
// runner.ErrContextFull with errors.Is.
type ContextError struct {
	Tokens int // prompt tokens
	Ctx    int // tokens one slot holds
}

func (e *ContextError) Error() string {
	return fmt.Sprintf("the prompt is %d tokens but the context holds %d", e.Tokens, e.Ctx)
}

// Is makes errors.Is(err, runner.ErrContextFull) true.
func (e *ContextError) Is(target error) bool { return target == runner.ErrContextFull }
