package download

import (
	"context"
	"sync"
)

// Budget caps the ranged requests in flight across several Fetches, so
// the files of one pull (the parts of a split model) download at once
// without opening more connections than one file would. Safe for
// concurrent use; pass the same one in each FetchOptions.
type Budget struct {
	n     int
	once  sync.Once
	slots chan struct{}
}

// NewBudget returns a budget of n requests; n <= 0 means the Connections
// of the Client whose Fetch uses it first.
func NewBudget(n int) *Budget { return &Budget{n: n} }

// sizeFor fixes the size on first use and returns it.
func (b *Budget) sizeFor(c *Client) int {
	b.once.Do(func() {
		if b.n <= 0 {
			b.n = c.connections()
		}
		b.slots = make(chan struct{}, b.n)
	})
	return b.n
}

func (b *Budget) acquire(ctx context.Context) error {
	select {
	case b.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func (b *Budget) release() { <-b.slots }
