//go:build unix

package loadgen

import "syscall"

// OpenFilesLimit is the process's soft open-file limit (ulimit -n); 0 when unknown.
func OpenFilesLimit() uint64 {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) != nil {
		return 0
	}
	return uint64(l.Cur)
}

// RaiseOpenFilesLimit raises the soft open-file limit to the hard limit, as far as the system
// allows: every stream holds a socket, and the usual soft limit (1,024) stops a run of more
// users than that with EMFILE. Go raises it itself at start on Linux (since Go 1.19), so this
// mostly reports; before and after are equal when there was nothing to raise.
func RaiseOpenFilesLimit() (before, after uint64, err error) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, 0, err
	}
	before = uint64(l.Cur)
	if l.Cur >= l.Max {
		return before, before, nil
	}
	l.Cur = l.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return before, before, err
	}
	return before, uint64(l.Max), nil
}
