package schedule

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func TestConstant(t *testing.T) {
	t.Parallel()
	tests := []struct {
		c    Constant
		n    uint64
		want time.Duration
	}{
		{Constant{PerSecond: 10}, 0, 0},
		{Constant{PerSecond: 10}, 1, 100 * time.Millisecond},
		{Constant{PerSecond: 10}, 25, 2500 * time.Millisecond},
		{Constant{PerSecond: 3}, 1, 333333333},
		{Constant{PerSecond: 1000, Offset: 500 * time.Microsecond}, 2, 2500 * time.Microsecond},
	}
	for _, tt := range tests {
		got, ok := tt.c.At(tt.n)
		if !ok || got != tt.want {
			t.Errorf("%+v.At(%d) = %v, %v; want %v, true", tt.c, tt.n, got, ok, tt.want)
		}
	}
	if _, ok := (Constant{}).At(0); ok {
		t.Error("a zero rate gives requests")
	}
}

// TestConstantNoDrift: the schedule is computed from n, not summed, so it never drifts.
func TestConstantNoDrift(t *testing.T) {
	t.Parallel()
	c := Constant{PerSecond: 2000}
	got, _ := c.At(7_200_000)
	if want := time.Hour; got != want {
		t.Fatalf("request 7,200,000 at 2,000/s is due at %v, want %v", got, want)
	}
}

func TestNewInvalid(t *testing.T) {
	t.Parallel()
	for _, o := range []Options{
		{Kind: KindPoisson},
		{Kind: KindPoisson, PerSecond: math.Inf(1), Horizon: time.Second},
		{Kind: KindPoisson, PerSecond: 10},
		{Kind: KindGamma, PerSecond: 10, Horizon: time.Second},
		{Kind: "zipf", PerSecond: 10, Horizon: time.Second},
		{Kind: KindPoisson, PerSecond: 1e9, Horizon: time.Hour},
	} {
		if _, err := New(o); !errors.Is(err, ErrInvalid) {
			t.Errorf("New(%+v) error %v, want ErrInvalid", o, err)
		}
	}
}

// stats returns the mean (s) and the coefficient of variation of the inter-arrival times.
func stats(t *testing.T, s Schedule) (mean, cv float64, n int) {
	t.Helper()
	var prev time.Duration
	var gaps []float64
	for i := uint64(0); ; i++ {
		due, ok := s.At(i)
		if !ok {
			break
		}
		if due < prev {
			t.Fatalf("request %d due at %v, before request %d at %v", i, due, i-1, prev)
		}
		gaps = append(gaps, (due - prev).Seconds())
		prev = due
	}
	for _, g := range gaps {
		mean += g
	}
	mean /= float64(len(gaps))
	var ss float64
	for _, g := range gaps {
		ss += (g - mean) * (g - mean)
	}
	return mean, math.Sqrt(ss/float64(len(gaps)-1)) / mean, len(gaps)
}

// TestRandomSchedules is a seeded property test: for several seeds, rates and shapes the
// mean inter-arrival time is 1/rate and the coefficient of variation is 1/sqrt(shape).
func TestRandomSchedules(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{KindPoisson, KindGamma} {
		for _, shape := range []float64{0.25, 0.5, 1, 2, 4} {
			if kind == KindPoisson && shape != 1 {
				continue
			}
			for _, rate := range []float64{5, 500, 2000} {
				for seed := uint64(1); seed <= 3; seed++ {
					name := fmt.Sprintf("%s/shape=%g/rate=%g/seed=%d", kind, shape, rate, seed)
					t.Run(name, func(t *testing.T) {
						t.Parallel()
						horizon := time.Duration(40000/rate*float64(time.Second)) + time.Second
						s, err := New(Options{Kind: kind, PerSecond: rate, Shape: shape, Seed: seed, Horizon: horizon})
						if err != nil {
							t.Fatal(err)
						}
						mean, cv, n := stats(t, s)
						// 40,000 gaps: the mean's standard error is cv/200; allow 5 of them.
						if tol := 5 * (1 / math.Sqrt(shape)) / 200; math.Abs(mean*rate-1) > tol {
							t.Errorf("%d arrivals: mean gap %.6fs, want %.6fs ± %.1f%%", n, mean, 1/rate, 100*tol)
						}
						if want := 1 / math.Sqrt(shape); math.Abs(cv-want)/want > 0.05 {
							t.Errorf("%d arrivals: coefficient of variation %.3f, want %.3f ± 5%%", n, cv, want)
						}
						last, _ := s.At(uint64(n - 1))
						if _, ok := s.At(uint64(n)); ok || last >= horizon {
							t.Errorf("arrival %d at %v, past the horizon %v", n-1, last, horizon)
						}
					})
				}
			}
		}
	}
}

func TestRandomSchedulesAreSeeded(t *testing.T) {
	t.Parallel()
	o := Options{Kind: KindGamma, PerSecond: 100, Shape: 0.5, Seed: 7, Horizon: 10 * time.Second}
	a, _ := New(o)
	b, _ := New(o)
	o.Seed = 8
	c, _ := New(o)
	x, _ := a.At(500)
	y, _ := b.At(500)
	z, _ := c.At(500)
	if x != y || x == z {
		t.Fatalf("request 500: seed 7 gives %v and %v, seed 8 gives %v; want equal, then different", x, y, z)
	}
}

func TestGammaMoments(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, k := range []float64{0.1, 0.5, 1, 3, 10} {
		const n = 200_000
		var sum, ss float64
		for range n {
			x := Gamma(rng, k)
			if x < 0 || math.IsNaN(x) {
				t.Fatalf("Gamma(%g) drew %v", k, x)
			}
			sum += x
			ss += x * x
		}
		mean := sum / n
		variance := ss/n - mean*mean
		if math.Abs(mean-k)/k > 0.02 || math.Abs(variance-k)/k > 0.05 {
			t.Errorf("Gamma(%g): mean %.4f variance %.4f, want both %g", k, mean, variance, k)
		}
	}
}

// BenchmarkNew measures drawing a schedule; At itself is a slice index.
//
//	go test ./internal/schedule -run '^$' -bench . -benchmem -count 10
func BenchmarkNew(b *testing.B) {
	for _, kind := range []string{KindPoisson, KindGamma} {
		b.Run("kind="+kind, func(b *testing.B) {
			for b.Loop() {
				_, _ = New(Options{Kind: kind, PerSecond: 2000, Shape: 0.5, Seed: 1, Horizon: time.Minute})
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/120000, "ns/arrival")
		})
	}
}

// TestCount: a schedule bounded by a count draws exactly that many arrivals, whatever the
// horizon, and refuses more than it can hold.
func TestCount(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{KindPoisson, KindGamma} {
		s, err := New(Options{Kind: kind, PerSecond: 0.001, Shape: 0.5, Seed: 3, Count: 5})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := s.At(4); !ok {
			t.Errorf("%s: no arrival 4 of a count of 5", kind)
		}
		if _, ok := s.At(5); ok {
			t.Errorf("%s: an arrival 5 beyond a count of 5", kind)
		}
	}
	if _, err := New(Options{Kind: KindPoisson, PerSecond: 1, Count: maxArrivals + 1}); err == nil {
		t.Error("a count above the limit: no error")
	}
}
