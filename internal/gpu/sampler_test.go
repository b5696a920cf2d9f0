package gpu

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// scripted is a Source that puts one reading per GPU every `every`, from a function of the
// reading number, for `count` rounds (0: forever), then fails with err (nil: stops quietly).
type scripted struct {
	name   string
	every  time.Duration
	gpus   int
	count  int
	values func(gpu, n int) Metrics
	err    error
	starts atomic.Int32
}

func (s *scripted) Name() string { return s.name }

func (s *scripted) Run(ctx context.Context, _ time.Duration, put func(Reading)) error {
	s.starts.Add(1)
	for n := 0; s.count == 0 || n < s.count; n++ {
		for g := range s.gpus {
			put(Reading{Index: g, UUID: "GPU-" + s.name, At: time.Now(), Metrics: s.values(g, n)})
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(s.every):
		}
	}
	return s.err
}

func metrics(kv ...float64) Metrics {
	m := NoMetrics()
	for i := 0; i+1 < len(kv); i += 2 {
		m[Metric(kv[i])] = kv[i+1]
	}
	return m
}

// collect runs s on grid for d and returns the ticks.
func collect(t *testing.T, s Sampler, grid Grid, d time.Duration) ([]Tick, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	defer cancel()
	out := make(chan Tick)
	errc := make(chan error, 1)
	go func() { errc <- s.Run(ctx, grid, out); close(out) }()
	var ticks []Tick
	for tk := range out {
		ticks = append(ticks, tk)
	}
	return ticks, <-errc
}

func TestSamplerGridAndMerge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dmon := &scripted{name: "slow", every: time.Second, gpus: 2, values: func(g, n int) Metrics {
			return metrics(float64(PowerW), 100, float64(SMActivePct), float64(10*g+n))
		}}
		query := &scripted{name: "fast", every: 100 * time.Millisecond, gpus: 2, values: func(g, n int) Metrics {
			return metrics(float64(PowerW), float64(200+n))
		}}
		// the grid starts 50 ms after the sources, so that every instant has readings
		start := time.Now().Add(50 * time.Millisecond)
		grid := Grid{Start: start, Interval: 250 * time.Millisecond}
		ticks, err := collect(t, NewSampler(SamplerOptions{}, dmon, query), grid, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if len(ticks) != 8 { // instants 0 … 7 at 50 ms, 300 ms, … 1800 ms
			t.Fatalf("got %d ticks, want 8", len(ticks))
		}
		for i, tk := range ticks {
			if tk.K != int64(i) || !tk.At.Equal(start.Add(time.Duration(i)*250*time.Millisecond)) || len(tk.Samples) != 2 {
				t.Fatalf("tick %d = k %d at %v with %d samples", i, tk.K, tk.At.Sub(start), len(tk.Samples))
			}
			for g, s := range tk.Samples {
				if s.Index != g || s.Offset != tk.At.Sub(start) || s.Tick != tk.K || s.Source != "slow+fast" {
					t.Fatalf("tick %d sample %d: %+v", i, g, s)
				}
				// the fast source overrides power; sm_active only comes from the slow one
				if s.Metrics[PowerW] < 200 || s.Metrics[SMActivePct] != float64(10*g+i/4) {
					t.Fatalf("tick %d gpu %d: power %v sm_active %v", i, g, s.Metrics[PowerW], s.Metrics[SMActivePct])
				}
				if s.Age > 100*time.Millisecond || s.UUID != "GPU-fast" {
					t.Fatalf("tick %d gpu %d: age %v uuid %s", i, g, s.Age, s.UUID)
				}
			}
		}
	})
}

func TestSamplerDropsStaleReadings(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		once := &scripted{name: "once", every: time.Hour, gpus: 1, values: func(int, int) Metrics {
			return metrics(float64(TensorActivePct), 50)
		}}
		steady := &scripted{name: "steady", every: 100 * time.Millisecond, gpus: 1, values: func(int, int) Metrics {
			return metrics(float64(PowerW), 300)
		}}
		grid := Grid{Start: time.Now().Add(500 * time.Millisecond), Interval: time.Second}
		ticks, err := collect(t, NewSampler(SamplerOptions{StaleAfter: 2500 * time.Millisecond}, once, steady), grid, 5200*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if len(ticks) != 5 {
			t.Fatalf("got %d ticks, want 5", len(ticks))
		}
		for _, tk := range ticks {
			s := tk.Samples[0]
			fresh := tk.K <= 2
			if s.Metrics.Has(TensorActivePct) != fresh || (s.Source == "once+steady") != fresh {
				t.Errorf("tick %d: tensor %v source %s; the one-off reading is stale after 2.5 s", tk.K, s.Metrics[TensorActivePct], s.Source)
			}
		}
	})
}

func TestSamplerRestartsAndGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		broken := &scripted{name: "broken", every: time.Millisecond, gpus: 1, count: 1, err: errors.New("nvidia-smi died"),
			values: func(int, int) Metrics { return NoMetrics() }}
		dead := &scripted{name: "dead", gpus: 1, err: errors.New("no such GPU"), count: -1, values: func(int, int) Metrics { return NoMetrics() }}
		opts := SamplerOptions{Restart: time.Second, MaxFailures: 3}
		// "dead" never reads: it is given up after 3 starts; "broken" reads once per start, so it
		// is restarted for as long as the sampler runs.
		_, err := collect(t, NewSampler(opts, broken, dead), Grid{Start: time.Now(), Interval: time.Second}, 10*time.Second)
		if err == nil || !strings.Contains(err.Error(), "gpu source dead gave up after 3 failures: no such GPU") {
			t.Fatalf("error %v", err)
		}
		if n := dead.starts.Load(); n != 3 {
			t.Errorf("dead started %d times, want 3", n)
		}
		if n := broken.starts.Load(); n < 9 {
			t.Errorf("broken started %d times in 10 s with a 1 s restart, want about 10", n)
		}
	})
}

func TestSamplerEndsWhenEverySourceGaveUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dead := &scripted{name: "dead", gpus: 1, count: -1, values: func(int, int) Metrics { return NoMetrics() }}
		start := time.Now()
		_, err := collect(t, NewSampler(SamplerOptions{}, dead), Grid{Start: start, Interval: time.Second}, time.Hour)
		if err == nil || time.Since(start) > 10*time.Second {
			t.Fatalf("error %v after %v; want the sampler to stop once its only source gave up", err, time.Since(start))
		}
		if _, err := collect(t, NewSampler(SamplerOptions{}), Grid{Interval: time.Second}, time.Second); err == nil {
			t.Error("a sampler without sources ran")
		}
		if _, err := collect(t, NewSampler(SamplerOptions{}, dead), Grid{}, time.Second); err == nil {
			t.Error("a sampler ran on a grid without interval")
		}
		if _, err := collect(t, Fake{GPUs: 1}, Grid{}, time.Second); err == nil {
			t.Error("the fake ran on a grid without interval")
		}
	})
}

func TestGridSkipsMissedInstants(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		grid := Grid{Start: start, Interval: 100 * time.Millisecond}
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		out := make(chan Tick)
		go Fake{GPUs: 1}.Run(ctx, grid, out)
		first := <-out
		time.Sleep(350 * time.Millisecond) // a slow receiver: instant 1 waits to be taken
		second, third := <-out, <-out
		if first.K != 0 || second.K != 1 || third.K != 4 || !third.At.Equal(grid.At(4)) {
			t.Fatalf("ticks %d, %d, %d at %v; want 0, 1, then 4 (2 and 3 missed)", first.K, second.K, third.K, third.At.Sub(start))
		}
		cancel()
		synctest.Wait()
	})
}

func TestGrid(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	g := Grid{Start: start, Interval: 500 * time.Millisecond}
	cases := []struct {
		at   time.Duration
		want int64
	}{{-time.Second, 0}, {0, 0}, {1, 1}, {500 * time.Millisecond, 1}, {501 * time.Millisecond, 2}, {10 * time.Second, 20}}
	for _, c := range cases {
		if got := g.Next(start.Add(c.at)); got != c.want {
			t.Errorf("Next(start%+v) = %d, want %d", c.at, got, c.want)
		}
	}
	if !g.At(3).Equal(start.Add(1500 * time.Millisecond)) {
		t.Errorf("At(3) = %v", g.At(3))
	}
	if (Grid{Start: start}).Next(start.Add(time.Hour)) != 0 {
		t.Error("a grid without interval must answer 0")
	}
}

func TestReasons(t *testing.T) {
	t.Parallel()
	if got := strings.Join(Reasons(0x24), ","); got != "sw_power_cap,sw_thermal_slowdown" {
		t.Errorf("Reasons(0x24) = %s", got)
	}
	if got := strings.Join(Reasons(0x1|0x800), ","); got != "gpu_idle,0x800" {
		t.Errorf("Reasons(0x801) = %s", got)
	}
	if Reasons(0) != nil {
		t.Error("Reasons(0) must be empty")
	}
	if Metric(-1).String() != "unknown" || SMUtilPct.String() != "sm_util_pct" || EnergyJ.String() != "energy_j" {
		t.Error("metric names")
	}
}
