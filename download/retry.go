package download

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

const (
	backoffBase = 500 * time.Millisecond
	backoffMax  = 30 * time.Second
	// retryAfterMax caps a server's Retry-After so a bad header cannot hang us.
	retryAfterMax = 5 * time.Minute
)

// backoff is the wait before retry number attempt (1-based): exponential
// with jitter in [d/2, d), or exactly the server's Retry-After if it gave one.
func backoff(attempt int, err error) time.Duration {
	var r *retryable
	if errors.As(err, &r) && r.after > 0 {
		return min(r.after, retryAfterMax)
	}
	d := backoffBase << min(attempt-1, 10)
	d = min(d, backoffMax)
	return d/2 + rand.N(d/2)
}

// waitNotice is the shortest wait before a retry that is announced
// (PhaseWaiting): shorter ones pass unnoticed, longer ones look like a hang.
const waitNotice = 2 * time.Second

// waitMessage says how long a retry waits and why.
func waitMessage(d time.Duration, rt *retryable, err error) string {
	why := err.Error()
	if rt.after > 0 {
		why += fmt.Sprintf(" (the server asked to wait %v with Retry-After", rt.after.Round(time.Second))
		if rt.after > retryAfterMax {
			why += fmt.Sprintf(", capped at %v", retryAfterMax)
		}
		why += ")"
	}
	return fmt.Sprintf("waiting %v before retrying: %s", d.Round(time.Second), why)
}

// retry runs op until it succeeds, fails permanently, or retries run out.
// op returns retryable errors (see classify) for transient failures.
// what names the call for OnWait.
func (c *Client) retry(ctx context.Context, what string, op func() error) error {
	for attempt := 1; ; attempt++ {
		err := op()
		var r *retryable
		if err == nil || !errors.As(err, &r) || attempt > c.maxRetries() {
			return err
		}
		d := backoff(attempt, err)
		if d >= waitNotice && c.OnWait != nil {
			c.OnWait(what, waitMessage(d, r, err))
		}
		if err := c.clock().Sleep(ctx, d); err != nil {
			return err
		}
	}
}
