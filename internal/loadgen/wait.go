package loadgen

import (
	"context"
	"time"
)

// Waiter waits until a moment: the open-loop dispatcher waits with it for each request's due
// time, the user spawner for each user's start.
type Waiter interface {
	WaitUntil(ctx context.Context, t time.Time) error
}

// TimerWaiter waits with a Go timer alone. A busy process wakes on time, but an idle one
// sleeps in epoll with millisecond resolution, so it wakes up to a millisecond late (half a
// millisecond typical). It is what tests under testing/synctest use.
type TimerWaiter struct{}

// WaitUntil implements Waiter.
func (TimerWaiter) WaitUntil(ctx context.Context, t time.Time) error {
	return sleepCtx(ctx, time.Until(t))
}

// sleepCtx sleeps for d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-tm.C:
		return nil
	}
}

// newWaiter returns the configured waiter, else the most precise one of the platform, and a
// func that releases it.
func (c Config) newWaiter() (Waiter, func()) {
	if c.Waiter != nil {
		return c.Waiter, func() {}
	}
	return newPreciseWaiter()
}
