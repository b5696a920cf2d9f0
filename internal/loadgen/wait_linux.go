package loadgen

import (
	"context"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// fineWait is the part of a wait done with clock_nanosleep rather than a timer.
const fineWait = 2 * time.Millisecond

type preciseWaiter struct{}

func newPreciseWaiter() Waiter { return preciseWaiter{} }

// Prepare locks the calling goroutine to its thread and lowers that thread's timer slack from
// the default 50 µs. The thread is never unlocked, so it exits with the goroutine and the
// setting never leaks to other goroutines.
func (preciseWaiter) Prepare() {
	runtime.LockOSThread()
	_ = unix.Prctl(unix.PR_SET_TIMERSLACK, 1, 0, 0, 0)
}

// WaitUntil implements Waiter.
func (preciseWaiter) WaitUntil(ctx context.Context, t time.Time) error {
	if d := time.Until(t); d > fineWait {
		if err := sleepCtx(ctx, d-fineWait); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for d := time.Until(t); d > 0; d = time.Until(t) {
		ts := unix.NsecToTimespec(int64(d))
		_ = unix.Nanosleep(&ts, nil) // EINTR: loop and sleep what is left
	}
	return nil
}
