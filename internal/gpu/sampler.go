package gpu

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Sampler produces GPU samples on a grid.
type Sampler interface {
	// Run sends one Tick (one Sample per GPU it has fresh readings for) at every grid instant
	// from now on, until ctx is done. It returns nil when ctx ended it, or why it stopped
	// early. It never closes out.
	Run(ctx context.Context, grid Grid, out chan<- Tick) error
}

// Source is where readings come from: a long-running nvidia-smi, a DCGM exporter, …
type Source interface {
	Name() string
	// Run reads about every poll until ctx is done, handing each Reading to put (from one
	// goroutine); it returns nil when ctx ended it, else why it stopped.
	Run(ctx context.Context, poll time.Duration, put func(Reading)) error
}

// GridSource is a Source that reads on demand (NVML): the sampler calls RunGrid instead of
// Run, and the source reads just before each grid instant, so the readings a tick takes are
// milliseconds old instead of up to a poll period.
type GridSource interface {
	Source
	RunGrid(ctx context.Context, grid Grid, put func(Reading)) error
}

// SamplerOptions tune NewSampler; the zero value takes the defaults.
type SamplerOptions struct {
	// Poll is how often sources read; 0 is half the grid interval, at least MinPoll, so the
	// freshest reading at a grid instant is at most about Poll old.
	Poll time.Duration
	// StaleAfter drops readings older than this at a grid instant (a stuck source); 0 is
	// 3 × max(grid interval, 1 s).
	StaleAfter time.Duration
	// Restart is the wait before a failed source is started again; 0 is 1 s.
	Restart time.Duration
	// MaxFailures is how many failures in a row, without a reading between them, make the
	// sampler give a source up; 0 is 3.
	MaxFailures int
}

// MinPoll is the shortest default poll: nvidia-smi spends ~27 ms of CPU per sample of 4 H100s.
const MinPoll = 100 * time.Millisecond

// NewSampler merges the readings of sources onto the grid: at every instant, each GPU's
// latest fresh reading of every source, later sources overriding earlier ones where both
// give a metric (so put the finest-grained source last).
func NewSampler(opts SamplerOptions, sources ...Source) Sampler {
	return &sampler{opts: opts, sources: sources}
}

type sampler struct {
	opts    SamplerOptions
	sources []Source
}

func (s *sampler) settings(grid Grid) SamplerOptions {
	o := s.opts
	if o.Poll <= 0 {
		o.Poll = max(grid.Interval/2, MinPoll)
	}
	if o.StaleAfter <= 0 {
		o.StaleAfter = 3 * max(grid.Interval, time.Second)
	}
	if o.Restart <= 0 {
		o.Restart = time.Second
	}
	if o.MaxFailures <= 0 {
		o.MaxFailures = 3
	}
	return o
}

func (s *sampler) Run(ctx context.Context, grid Grid, out chan<- Tick) error {
	if len(s.sources) == 0 {
		return errors.New("gpu sampler: no source")
	}
	if grid.Interval <= 0 {
		return fmt.Errorf("gpu sampler: grid interval %v is not positive", grid.Interval)
	}
	o := s.settings(grid)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st := &latest{byGPU: map[int][]Reading{}, n: len(s.sources)}
	errs := make([]error, len(s.sources))
	var alive atomic.Int32
	alive.Store(int32(len(s.sources)))
	var wg sync.WaitGroup
	for i, src := range s.sources {
		wg.Go(func() {
			errs[i] = keepRunning(ctx, src, grid, o, func(r Reading) { st.put(i, r) })
			if alive.Add(-1) == 0 {
				cancel()
			}
		})
	}
	names := make([]string, len(s.sources))
	for i, src := range s.sources {
		names[i] = src.Name()
	}
	runGrid(ctx, grid, out, func(k int64, at time.Time) []Sample {
		return st.snapshot(k, at, grid, o.StaleAfter, names)
	})
	cancel()
	wg.Wait()
	return errors.Join(errs...)
}

// keepRunning runs src, restarting it after failures, until ctx is done or it failed
// MaxFailures times in a row without a reading.
func keepRunning(ctx context.Context, src Source, grid Grid, o SamplerOptions, put func(Reading)) error {
	fails := 0
	for {
		var got atomic.Bool
		mark := func(r Reading) { got.Store(true); put(r) }
		var err error
		if gs, ok := src.(GridSource); ok {
			err = gs.RunGrid(ctx, grid, mark)
		} else {
			err = src.Run(ctx, o.Poll, mark)
		}
		if ctx.Err() != nil {
			return nil
		}
		if err == nil {
			err = errors.New("stopped")
		}
		if got.Load() {
			fails = 0
		}
		fails++
		if fails >= o.MaxFailures {
			return fmt.Errorf("gpu source %s gave up after %d failures: %w", src.Name(), fails, err)
		}
		t := time.NewTimer(o.Restart)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// runGrid calls snap at every grid instant from now until ctx is done and sends the
// samples as a Tick. Instants missed (a slow receiver) are skipped, not bunched.
func runGrid(ctx context.Context, grid Grid, out chan<- Tick, snap func(k int64, at time.Time) []Sample) {
	k := grid.Next(time.Now())
	for {
		at := grid.At(k)
		t := time.NewTimer(time.Until(at))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if samples := snap(k, at); len(samples) > 0 {
			select {
			case out <- Tick{K: k, At: at, Samples: samples}:
			case <-ctx.Done():
				return
			}
		}
		k = max(k+1, grid.Next(time.Now()))
	}
}

// latest keeps, per GPU, the newest reading of each source.
type latest struct {
	mu    sync.Mutex
	n     int
	byGPU map[int][]Reading
}

func (l *latest) put(src int, r Reading) {
	l.mu.Lock()
	defer l.mu.Unlock()
	rs := l.byGPU[r.Index]
	if rs == nil {
		rs = make([]Reading, l.n)
		l.byGPU[r.Index] = rs
	}
	rs[src] = r
}

func (l *latest) snapshot(k int64, at time.Time, grid Grid, stale time.Duration, names []string) []Sample {
	l.mu.Lock()
	defer l.mu.Unlock()
	idx := make([]int, 0, len(l.byGPU))
	for i := range l.byGPU {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	var out []Sample
	for _, i := range idx {
		if s, ok := merge(l.byGPU[i], at, stale, names); ok {
			s.Tick, s.Time, s.Offset, s.Index = k, at, at.Sub(grid.Start), i
			out = append(out, s)
		}
	}
	return out
}

// merge folds one GPU's readings, oldest source first, skipping stale ones.
func merge(rs []Reading, at time.Time, stale time.Duration, names []string) (Sample, bool) {
	s := Sample{Metrics: NoMetrics()}
	var newest time.Time
	var used []string
	for j, r := range rs {
		if r.At.IsZero() || at.Sub(r.At) > stale {
			continue
		}
		s.Metrics.Merge(r.Metrics)
		if r.UUID != "" {
			s.UUID = r.UUID
		}
		if r.Name != "" {
			s.Name = r.Name
		}
		if r.At.After(newest) {
			newest = r.At
		}
		used = append(used, names[j])
	}
	if used == nil {
		return s, false
	}
	s.Age = max(at.Sub(newest), 0)
	s.Source = strings.Join(used, "+")
	return s, true
}
