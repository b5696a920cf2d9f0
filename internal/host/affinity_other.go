//go:build !linux

package host

// ClientCores is unknown here: nil, every CPU.
func ClientCores() []int { return nil }
