package sim

import (
	"slices"
	"sync"
	"time"
)

// Activity records when the GPUs of each DP rank ran kernels, so the server can export
// simulated GPU telemetry in the shape of a DCGM exporter: utilisation, SM, tensor and DRAM
// activity over a trailing window. The model writes it (one goroutine); scrapes read it from
// others, hence the lock.
type Activity struct {
	mu    sync.Mutex
	spans [][]gpuSpan // per rank, in start order
	keep  time.Duration
}

// gpuSpan is one step's GPU time: kernels from start (compute and memory time inside them),
// then the all-reduces.
type gpuSpan struct {
	start                           time.Duration
	compute, memory, kernels, total time.Duration
}

// Usage is what a rank's GPUs did over a window, as fractions of it (0 to 1).
type Usage struct {
	Busy    float64 // kernels or all-reduces running: NVML's "utilization.gpu"
	SM      float64 // compute kernels running (DCGM SM active); all-reduces excluded
	Tensor  float64 // the compute share of kernel time (DCGM tensor-pipe active)
	DRAM    float64 // the memory share of kernel time (DCGM DRAM active)
	Reduces float64 // all-reduces running
}

// activityKeep is how much simulated history a rank keeps at least.
const activityKeep = 10 * time.Second

func newActivity(ranks int) *Activity {
	return &Activity{spans: make([][]gpuSpan, ranks), keep: activityKeep}
}

// add records a step of rank that started at start (its CPU part first).
func (a *Activity) add(rank int, start time.Duration, p StepParts) {
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	s := append(a.spans[rank], gpuSpan{start: start + p.CPU, compute: p.Compute, memory: p.Memory,
		kernels: p.Kernels(), total: p.GPU()})
	// Drop history older than keep, in one move when it is a quarter of the slice.
	cut := 0
	for cut < len(s) && s[cut].start+s[cut].total < start-a.keep {
		cut++
	}
	if cut > len(s)/4 {
		s = slices.Delete(s, 0, cut)
	}
	a.spans[rank] = s
}

// Ranks is the number of DP ranks recorded.
func (a *Activity) Ranks() int { return len(a.spans) }

// Usage is rank's GPU activity over (now − window, now] in simulated time; work still to
// come after now is not counted.
func (a *Activity) Usage(rank int, now, window time.Duration) Usage {
	a.mu.Lock()
	defer a.mu.Unlock()
	if window <= 0 || rank < 0 || rank >= len(a.spans) {
		return Usage{}
	}
	from := now - window
	var u Usage
	for _, sp := range a.spans[rank] {
		if sp.start >= now || sp.start+sp.total <= from {
			continue
		}
		k := overlap(sp.start, sp.start+sp.kernels, from, now)
		u.Busy += overlap(sp.start, sp.start+sp.total, from, now)
		u.SM += k
		u.Reduces += overlap(sp.start+sp.kernels, sp.start+sp.total, from, now)
		if sp.kernels > 0 {
			u.Tensor += k * float64(sp.compute) / float64(sp.kernels)
			u.DRAM += k * float64(sp.memory) / float64(sp.kernels)
		}
	}
	w := float64(window)
	return Usage{Busy: u.Busy / w, SM: u.SM / w, Tensor: u.Tensor / w, DRAM: u.DRAM / w, Reduces: u.Reduces / w}
}

// overlap is the length of [a0, a1) ∩ [b0, b1), as a float64 of nanoseconds.
func overlap(a0, a1, b0, b1 time.Duration) float64 {
	lo, hi := max(a0, b0), min(a1, b1)
	if hi <= lo {
		return 0
	}
	return float64(hi - lo)
}
