package loadgen

import (
	"context"
	"time"
)

// Waiter waits until a moment. The open-loop dispatcher and the user spawner each own one
// goroutine that waits with it; Prepare is called once on that goroutine before it waits.
type Waiter interface {
	Prepare()
	WaitUntil(ctx context.Context, t time.Time) error
}

// TimerWaiter waits with a Go timer. The runtime sleeps in epoll with millisecond resolution
// when it has nothing else to do, so an idle process wakes up to a millisecond late (0.5 ms
// typical); it works under testing/synctest.
type TimerWaiter struct{}

// Prepare implements Waiter.
func (TimerWaiter) Prepare() {}

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

// PreciseWaiter returns the most precise waiter of the platform: on Linux, a timer for the
// bulk of the wait, then clock_nanosleep on a thread of its own with a 1 ns timer slack for
// the last 2 ms (tens of microseconds late, against up to a millisecond for a timer); a
// TimerWaiter elsewhere.
func PreciseWaiter() Waiter { return newPreciseWaiter() }
