package host

import "golang.org/x/sys/unix"

// ClientCores lists the CPUs this process may run on (its scheduler affinity); nil when
// unknown, which Compare reads as every CPU.
func ClientCores() []int {
	var set unix.CPUSet
	if unix.SchedGetaffinity(0, &set) != nil {
		return nil
	}
	var cores []int
	for i := range 1024 {
		if set.IsSet(i) {
			cores = append(cores, i)
		}
	}
	return cores
}
