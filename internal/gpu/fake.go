package gpu

import (
	"context"
	"fmt"
	"time"
)

// Fake is a Sampler for tests and the simulator: it emits GPUs samples at every grid instant,
// with the metrics Values gives (a deterministic default when nil) and Age 0.
type Fake struct {
	GPUs   int
	Name   string                         // "" is "Fake GPU"
	Values func(gpu int, k int64) Metrics // nil is DefaultFakeValues
}

// DefaultFakeValues is a plausible, deterministic GPU: utilisation and power rise with k.
func DefaultFakeValues(gpu int, k int64) Metrics {
	m := NoMetrics()
	util := float64((k*7 + int64(gpu)*13) % 101)
	m[SMUtilPct] = util
	m[MemBWUtilPct] = util / 3
	m[MemUsedMiB] = 1024 + float64(gpu)
	m[MemTotalMiB] = 81559
	m[PowerW] = 70 + util*6
	m[PowerLimitW] = 700
	m[SMClockMHz] = 345 + util*16
	m[MemClockMHz] = 2619
	m[TempC] = 35 + util/5
	m[PState] = 0
	m[ClockEventReasons] = 0
	return m
}

// Run emits until ctx is done.
func (f Fake) Run(ctx context.Context, grid Grid, out chan<- Tick) error {
	if grid.Interval <= 0 {
		return fmt.Errorf("fake gpu sampler: grid interval %v is not positive", grid.Interval)
	}
	values := f.Values
	if values == nil {
		values = DefaultFakeValues
	}
	name := f.Name
	if name == "" {
		name = "Fake GPU"
	}
	runGrid(ctx, grid, out, func(k int64, at time.Time) []Sample {
		samples := make([]Sample, f.GPUs)
		for i := range samples {
			samples[i] = Sample{
				Tick: k, Time: at, Offset: at.Sub(grid.Start), Index: i, Source: "fake", Name: name,
				UUID: fmt.Sprintf("GPU-fake-%04d", i), Metrics: values(i, k),
			}
		}
		return samples
	})
	return nil
}
