package gpu

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"
)

// ErrNoNVML is what asking for NVML gives in a binary built without it: the default build is
// cgo-free and reads nvidia-smi instead.
var ErrNoNVML = errors.New("built without NVML (go build -tags nvml)")

// errNVMLUnsupported is an NVML call the GPU or driver does not offer (NVML_ERROR_NOT_SUPPORTED,
// or a function this libnvidia-ml lacks): its metric is NaN, silently.
var errNVMLUnsupported = fmt.Errorf("nvml: %w", errors.ErrUnsupported)

// NVMLAvailable reports whether this binary was built with NVML (go build -tags nvml, with cgo,
// on Linux). Whether NVML works on this machine is for NewNVMLSource to say.
func NVMLAvailable() bool { return nvmlBuiltIn }

// nvmlLib is the NVML library as NVMLSource uses it: nvml.go implements it over go-nvml
// (cgo, build tag nvml), the tests with a fake, so the mapping is tested without cgo.
type nvmlLib interface {
	DeviceCount() (int, error)
	Device(index int) (nvmlDevice, error)
	Shutdown() error
	// ThreadCPU is the CPU time of the calling OS thread so far (0 where unknown).
	ThreadCPU() time.Duration
}

// nvmlDevice is one GPU's NVML handle. Values come in NVML's units (bytes, milliwatts, MHz,
// °C); an error wrapping errors.ErrUnsupported means the GPU does not offer the value.
type nvmlDevice interface {
	UUID() (string, error)
	Name() (string, error)
	Utilization() (gpu, memory uint32, err error)                  // % of the driver's last sample period
	Memory() (used, total uint64, err error)                       // bytes, as nvidia-smi's memory.used/total
	Power() (uint32, error)                                        // mW: power usage (a 1 s average on Ampere and newer)
	PowerLimit() (uint32, error)                                   // mW: the enforced power limit
	Clocks() (sm, mem uint32, err error)                           // MHz
	Temperature() (uint32, error)                                  // °C, GPU die
	PState() (int, error)                                          // 0…15; 32 unknown
	ClockEventReasons() (uint64, error)                            // nvmlClocksEventReason* bits
	PCIeLink() (gen, width int, err error)                         // current generation and lanes
	ECCUncorrected() (uint64, error)                               // volatile uncorrected errors
	MIGMode() (int, error)                                         // current MIG mode: 1 on
	Fields(ids []uint32) ([]nvmlField, error)                      // nvmlDeviceGetFieldValues
	GPMSupported() bool                                            // GPM (Hopper and newer) usable
	GPMSample(slot int) error                                      // take a GPM sample into buffer slot 0 or 1
	GPMMetrics(from, to int, ids []uint32) ([]nvmlGPMValue, error) // metrics between two slots
	Close()                                                        // free the GPM buffers
}

// nvmlField is one nvmlFieldValue_t: Ret 0 is success; Raw holds a value of type Type.
type nvmlField struct {
	ID, Type, Ret uint32
	Raw           [8]byte
}

// nvmlGPMValue is one nvmlGpmMetric_t result: Ret 0 is success.
type nvmlGPMValue struct {
	ID, Ret uint32
	Value   float64
}

// NVMLSource reads GPUs through NVML (libnvidia-ml, the library nvidia-smi is built on), in
// process and on demand: the same driver counters as nvidia-smi, read just before each grid
// instant (RunGrid) instead of up to a poll period earlier, plus GPM metrics (SM activity and
// occupancy, tensor and DRAM activity, PCIe and NVLink throughput) at every poll on Hopper and
// newer (NaN elsewhere) and the energy counter. Reading every value at every poll cost ~28 ms
// of CPU per poll of 4 H100s, as much as nvidia-smi (docs/gpu.md), so the seldom-changing
// values are read once per nvmlSlowEvery. Only in binaries built with -tags nvml (cgo); see
// NewNVMLSource.
type NVMLSource struct {
	gpus []int // nil: every GPU
	open func() (nvmlLib, error)

	mu    sync.Mutex
	stats NVMLStats
	costs nvmlCosts
}

// NVMLStats is what an NVMLSource's reads cost so far.
type NVMLStats struct {
	Polls    int64         // reads of every GPU
	Readings int64         // readings put (one per GPU per poll)
	Wall     time.Duration // time spent reading
	CPU      time.Duration // CPU time of the reading thread (0 where unknown)
	Calls    []NVMLCall    // each NVML call's share, all GPUs together
}

// NVMLCall is one kind of NVML call a poll makes ("utilization", "gpm", "fields", …), how
// many times it was made and the time it took.
type NVMLCall struct {
	Name  string
	Count int64
	Wall  time.Duration
}

// NewNVMLSource checks that NVML initialises and sees the GPUs (nil: every GPU) and returns a
// source reading them. It fails with ErrNoNVML in a binary built without NVML, and with NVML's
// error where libnvidia-ml.so.1 is missing or the driver does not answer.
func NewNVMLSource(gpus []int) (*NVMLSource, error) {
	return newNVMLSource(openNVML, gpus)
}

func newNVMLSource(open func() (nvmlLib, error), gpus []int) (*NVMLSource, error) {
	lib, err := open()
	if err != nil {
		return nil, err
	}
	defer lib.Shutdown()
	n, err := lib.DeviceCount()
	if err != nil {
		return nil, fmt.Errorf("nvml: counting GPUs: %w", err)
	}
	if n == 0 {
		return nil, errors.New("nvml: no GPU found")
	}
	for _, g := range gpus {
		if g < 0 || g >= n {
			return nil, fmt.Errorf("nvml: no GPU %d (there are %d)", g, n)
		}
	}
	return &NVMLSource{gpus: gpus, open: open}, nil
}

// Name is "nvml".
func (s *NVMLSource) Name() string { return "nvml" }

// Stats is what the reads cost so far.
func (s *NVMLSource) Stats() NVMLStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	names := nvmlCallNames()
	for i, c := range s.costs {
		if c.n > 0 {
			st.Calls = append(st.Calls, NVMLCall{Name: names[i], Count: c.n, Wall: c.wall})
		}
	}
	return st
}

// Run reads every GPU every poll until ctx is done.
func (s *NVMLSource) Run(ctx context.Context, poll time.Duration, put func(Reading)) error {
	poll = max(poll, time.Millisecond)
	next := time.Now()
	return s.loop(ctx, put, func(time.Duration) time.Time {
		next = next.Add(poll)
		if now := time.Now(); next.Before(now) {
			next = now
		}
		return next
	})
}

// RunGrid reads every GPU just before each instant of grid (by twice what the last read
// took, at least 1 ms, at most half the interval), so the sampler gets readings a few
// milliseconds old; and once at the start.
func (s *NVMLSource) RunGrid(ctx context.Context, grid Grid, put func(Reading)) error {
	served := int64(-1)
	return s.loop(ctx, put, func(took time.Duration) time.Time {
		lead := min(max(2*took, time.Millisecond), grid.Interval/2)
		k := max(served+1, grid.Next(time.Now().Add(lead)))
		served = k
		return grid.At(k).Add(-lead)
	})
}

// loop opens NVML, reads every GPU, waits until next says, and again, until ctx is done.
func (s *NVMLSource) loop(ctx context.Context, put func(Reading), next func(took time.Duration) time.Time) error {
	runtime.LockOSThread() // ThreadCPU measures this thread
	defer runtime.UnlockOSThread()
	lib, err := s.open()
	if err != nil {
		return err
	}
	defer lib.Shutdown()
	gpus, err := openGPUs(lib, s.gpus)
	defer closeGPUs(gpus)
	if err != nil {
		return err
	}
	for {
		took, err := s.poll(lib, gpus, put)
		if err != nil {
			return err
		}
		t := time.NewTimer(time.Until(next(took)))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// poll reads every GPU once and puts the readings.
func (s *NVMLSource) poll(lib nvmlLib, gpus []*nvmlGPU, put func(Reading)) (time.Duration, error) {
	cpu0, start := lib.ThreadCPU(), time.Now()
	rs := make([]Reading, 0, len(gpus))
	var costs nvmlCosts
	for _, g := range gpus {
		r, err := g.read(time.Now(), &costs)
		if err != nil {
			return 0, fmt.Errorf("nvml: GPU %d: %w", g.index, err)
		}
		r.At = time.Now()
		rs = append(rs, r)
	}
	took, cpu := time.Since(start), lib.ThreadCPU()-cpu0
	s.mu.Lock()
	s.stats.Polls++
	s.stats.Readings += int64(len(rs))
	s.stats.Wall += took
	s.stats.CPU += cpu
	for i, c := range costs {
		s.costs[i].n += c.n
		s.costs[i].wall += c.wall
	}
	s.mu.Unlock()
	for _, r := range rs {
		put(r)
	}
	return took, nil
}

// openGPUs gets the handles, names and UUIDs of the GPUs asked for (nil: all).
func openGPUs(lib nvmlLib, want []int) ([]*nvmlGPU, error) {
	if want == nil {
		n, err := lib.DeviceCount()
		if err != nil {
			return nil, fmt.Errorf("nvml: counting GPUs: %w", err)
		}
		for i := range n {
			want = append(want, i)
		}
	}
	var gpus []*nvmlGPU
	for _, i := range want {
		d, err := lib.Device(i)
		if err != nil {
			return gpus, fmt.Errorf("nvml: GPU %d: %w", i, err)
		}
		g := &nvmlGPU{index: i, dev: d, gpm: gpmPair{ok: d.GPMSupported(), last: -1}}
		g.uuid, _ = d.UUID()
		g.name, _ = d.Name()
		gpus = append(gpus, g)
	}
	return gpus, nil
}

func closeGPUs(gpus []*nvmlGPU) {
	for _, g := range gpus {
		g.dev.Close()
	}
}
