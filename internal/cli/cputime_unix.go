//go:build unix

package cli

import "syscall"

// cpuTimes is the CPU time of llmscale and of its waited-for children (nvidia-smi).
func cpuTimes() cpuUse {
	var self, children syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children)
	return cpuUse{
		selfUser: tv(self.Utime), selfSys: tv(self.Stime),
		childUser: tv(children.Utime), childSys: tv(children.Stime),
	}
}

func tv(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
