//go:build unix

package loadgen

import (
	"errors"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// idleUsable says whether a connection opened ahead is still open with nothing unread: a
// server that closed it (or sent something unasked) makes it useless. A connection with no
// socket behind it (a test's in-memory one) is taken as usable.
func idleUsable(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return true
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	usable := false
	cerr := raw.Control(func(fd uintptr) {
		var b [1]byte
		_, _, err := unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
		usable = errors.Is(err, unix.EAGAIN)
	})
	return cerr == nil && usable
}
