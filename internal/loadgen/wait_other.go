//go:build !linux

package loadgen

func newPreciseWaiter() Waiter { return TimerWaiter{} }
