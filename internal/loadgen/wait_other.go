//go:build !linux

package loadgen

func newPreciseWaiter() (Waiter, func()) { return TimerWaiter{}, func() {} }
