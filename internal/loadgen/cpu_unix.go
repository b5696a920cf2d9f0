//go:build unix

package loadgen

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time (user + system) the process has used; in a process that does other
// work too (a campaign runner, an in-process simulator) it counts that work as well.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return -1
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
