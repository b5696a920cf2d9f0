//go:build unix

package results

import (
	"errors"
	"os"
	"syscall"
)

// processAlive asks the kernel whether pid exists (signal 0 checks without sending).
func processAlive(pid int) bool {
	if pid == os.Getpid() {
		return true
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
