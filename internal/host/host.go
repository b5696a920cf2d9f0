// Package host samples the machine the load generator runs on, as evidence beside the
// client's own CPU: the whole machine's CPU utilisation and steal time (/proc/stat), and which
// other processes used CPU on the client's cores during the run (/proc/<pid>/stat). A client
// that used little CPU itself can still have been slowed by a busy host: servers on the same
// machine, a noisy neighbour, a hypervisor taking the CPU back (steal).
package host

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Thresholds of a contended host: whole-machine CPU utilisation or steal at or above them
// over the run means the client's timings include waiting for a CPU.
const (
	ContendedCPU   = 0.85
	ContendedSteal = 0.05
)

// CPU is the machine's CPU time from the "cpu" line of /proc/stat, in clock ticks, summed over
// every CPU.
type CPU struct {
	Total, Idle, Steal uint64 // idle includes iowait; total includes steal, excludes guest (counted in user)
}

// ParseStat reads the aggregate "cpu" line of /proc/stat.
func ParseStat(data []byte) (CPU, error) {
	for line := range bytes.Lines(data) {
		f := strings.Fields(string(line))
		if len(f) == 0 || f[0] != "cpu" {
			continue
		}
		if len(f) < 5 {
			return CPU{}, fmt.Errorf("/proc/stat: cpu line has %d fields, want at least 4 counters", len(f))
		}
		var v [8]uint64 // user nice system idle iowait irq softirq steal
		for i := 0; i < len(v) && i+1 < len(f); i++ {
			n, err := strconv.ParseUint(f[i+1], 10, 64)
			if err != nil {
				return CPU{}, fmt.Errorf("/proc/stat: cpu field %d %q: %w", i+1, f[i+1], err)
			}
			v[i] = n
		}
		var c CPU
		for _, n := range v {
			c.Total += n
		}
		c.Idle, c.Steal = v[3]+v[4], v[7]
		return c, nil
	}
	return CPU{}, errors.New("/proc/stat: no cpu line")
}

// Proc is one process from /proc/<pid>/stat.
type Proc struct {
	PID       int
	Comm      string
	Ticks     uint64 // utime + stime, clock ticks
	Processor int    // the CPU it last ran on
}

// ParseProcStat reads /proc/<pid>/stat. The command name is in parentheses and may itself
// hold spaces and parentheses, so fields are counted from the last ")".
func ParseProcStat(data []byte) (Proc, error) {
	s := strings.TrimSpace(string(data))
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 1 || end < open {
		return Proc{}, errors.New("proc stat: no (comm)")
	}
	pid, err := strconv.Atoi(strings.TrimSpace(s[:open]))
	if err != nil {
		return Proc{}, fmt.Errorf("proc stat: pid: %w", err)
	}
	// After ")": field 3 (state) onwards; utime is field 14, stime 15, processor 39.
	f := strings.Fields(s[end+1:])
	if len(f) < 37 {
		return Proc{}, fmt.Errorf("proc stat of %d: %d fields after the name, want at least 37", pid, len(f))
	}
	ut, err1 := strconv.ParseUint(f[14-3], 10, 64)
	st, err2 := strconv.ParseUint(f[15-3], 10, 64)
	cpu, err3 := strconv.Atoi(f[39-3])
	if err := errors.Join(err1, err2, err3); err != nil {
		return Proc{}, fmt.Errorf("proc stat of %d: %w", pid, err)
	}
	return Proc{PID: pid, Comm: s[open+1 : end], Ticks: ut + st, Processor: cpu}, nil
}

// Snapshot is the machine at one instant.
type Snapshot struct {
	CPU   CPU
	Procs map[int]Proc // by pid; nil when processes were not read
}

// Sharer is another process that used CPU on the client's cores during the run.
type Sharer struct {
	PID   int
	Comm  string
	Cores float64 // CPU time over the run's length: 1.0 is one core busy throughout
}

func (s Sharer) String() string {
	return fmt.Sprintf("%s (pid %d, %.2f cores)", s.Comm, s.PID, s.Cores)
}

// Usage is what the machine did between two snapshots.
type Usage struct {
	CPUUtil   float64 // share of all CPUs busy (not idle, not iowait), steal included
	Steal     float64 // share of all CPUs' time taken by the hypervisor
	Sharers   []Sharer
	Contended bool
}

// maxSharers is how many sharing processes are named, busiest first.
const maxSharers = 5

// Compare is the usage from a to b: seconds is the wall time between them, ticksPerSecond the
// kernel's USER_HZ, self the client's pid (not a sharer), cores the CPUs the client may run
// on (nil: every CPU). A process shares the client's cores when it used CPU in the interval
// and last ran on one of them.
func Compare(a, b Snapshot, seconds, ticksPerSecond float64, self int, cores []int) Usage {
	var u Usage
	if dt := float64(b.CPU.Total) - float64(a.CPU.Total); dt > 0 {
		u.CPUUtil = 1 - (float64(b.CPU.Idle)-float64(a.CPU.Idle))/dt
		u.Steal = (float64(b.CPU.Steal) - float64(a.CPU.Steal)) / dt
	}
	u.Contended = u.CPUUtil >= ContendedCPU || u.Steal >= ContendedSteal
	if seconds <= 0 || ticksPerSecond <= 0 {
		return u
	}
	for pid, p := range b.Procs {
		before, ok := a.Procs[pid]
		if pid == self || !ok || p.Ticks <= before.Ticks || (cores != nil && !slices.Contains(cores, p.Processor)) {
			continue
		}
		u.Sharers = append(u.Sharers, Sharer{PID: pid, Comm: p.Comm, Cores: float64(p.Ticks-before.Ticks) / ticksPerSecond / seconds})
	}
	slices.SortFunc(u.Sharers, func(x, y Sharer) int {
		if x.Cores != y.Cores {
			if x.Cores > y.Cores {
				return -1
			}
			return 1
		}
		return x.PID - y.PID
	})
	if len(u.Sharers) > maxSharers {
		u.Sharers = u.Sharers[:maxSharers]
	}
	return u
}
