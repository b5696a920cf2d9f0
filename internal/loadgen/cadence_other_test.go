//go:build !linux

package loadgen

// serveCadenceChild: the timing benchmarks and their server need Linux.
func serveCadenceChild() {}
