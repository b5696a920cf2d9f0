//go:build !unix

package loadgen

// OpenFilesLimit is unknown on this system: 0.
func OpenFilesLimit() uint64 { return 0 }

// RaiseOpenFilesLimit does nothing on this system.
func RaiseOpenFilesLimit() (before, after uint64, err error) { return 0, 0, nil }
