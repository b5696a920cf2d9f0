package stats

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// streamOf streams v as one series, in its order, and counts the passes.
func streamOf(v []float64, passes *int) func(add func(int, float64)) error {
	return func(add func(int, float64)) error {
		*passes++
		for _, x := range v {
			add(0, x)
		}
		return nil
	}
}

// checkStream compares the streamed Stat of v with NewStat of a sorted copy: count,
// percentiles and maximum exactly; it returns both.
func checkStream(t *testing.T, v []float64, sortMax int) (streamed, sorted Stat) {
	t.Helper()
	passes := 0
	got, err := StreamStats(1, sortMax, streamOf(v, &passes))
	if err != nil {
		t.Fatal(err)
	}
	want := NewStat(slices.Clone(v))
	g := got[0]
	if g.N != want.N || g.Median != want.Median || g.P90 != want.P90 || g.P95 != want.P95 || g.P99 != want.P99 ||
		g.Max != want.Max && !(math.IsNaN(g.Max) && math.IsNaN(want.Max)) {
		t.Fatalf("%d values (sortMax %d): streamed %+v, sorted %+v", len(v), sortMax, g, want)
	}
	if passes > 6 {
		t.Errorf("%d values took %d passes, want at most 6", len(v), passes)
	}
	return g, want
}

// TestStreamStatsExact: the streamed percentiles are exactly the sorted ones, on values
// shaped as latencies are and on the hard cases (ties, one bucket, negatives, few values).
func TestStreamStatsExact(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	gen := func(n int, f func() float64) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = f()
		}
		return v
	}
	tests := []struct {
		name string
		v    []float64
	}{
		{"none", nil},
		{"one", []float64{3}},
		{"two", []float64{5, -1}},
		{"all equal", gen(5000, func() float64 { return 20.5 })},
		{"two values", gen(5000, func() float64 { return float64(rng.IntN(2)) })},
		{"zeros and ones", gen(3001, func() float64 { return float64(rng.IntN(2)) * 1e-3 })},
		{"ms gaps", gen(20000, func() float64 { return float64(rng.Int64N(50_000_000)) / 1e6 })},
		{"exponential", gen(20000, rng.ExpFloat64)},
		{"normal with negatives", gen(20000, rng.NormFloat64)},
		{"close together", gen(20000, func() float64 { return 1 + float64(rng.IntN(1000))*1e-15 })},
		{"huge and tiny", gen(20000, func() float64 { return math.Ldexp(1, rng.IntN(1000)-500) })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			near := func(a, b float64) bool { return a == b || math.Abs(a-b) <= 1e-9*max(math.Abs(a), math.Abs(b), 1) }
			for _, sortMax := range []int{1, 16, 1000, DefaultSortMax} {
				// The mean and deviation are summed in another order: equal to rounding.
				if g, w := checkStream(t, tt.v, sortMax); !near(g.Mean, w.Mean) || !near(g.Std, w.Std) {
					t.Errorf("sortMax %d: streamed mean %v std %v, sorted %v %v", sortMax, g.Mean, g.Std, w.Mean, w.Std)
				}
			}
		})
	}
}

// TestStreamStatsSmallIsNewStat: below sortMax the figures are NewStat's to the last bit.
func TestStreamStatsSmallIsNewStat(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	v := make([]float64, 10000)
	for i := range v {
		v[i] = rng.ExpFloat64() * 30
	}
	passes := 0
	got, err := StreamStats(1, 0, streamOf(v, &passes))
	if err != nil {
		t.Fatal(err)
	}
	if want := NewStat(slices.Clone(v)); got[0] != want || passes != 2 {
		t.Errorf("streamed %+v in %d passes, want %+v in 2", got[0], passes, want)
	}
}

// TestStreamStatsError: a pass that fails fails the whole.
func TestStreamStatsError(t *testing.T) {
	t.Parallel()
	boom := fmt.Errorf("boom")
	if _, err := StreamStats(2, 0, func(func(int, float64)) error { return boom }); err != boom {
		t.Errorf("error %v, want boom", err)
	}
}

// FuzzStreamStats: any values (read as float64s from the bytes), any sortMax: the streamed
// count, percentiles and maximum equal the sorted ones. (The mean of values that cancel
// depends on the order they are summed in, so it is compared by the table test only.)
func FuzzStreamStats(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0xf0, 0x3f}, uint8(1))
	f.Add(make([]byte, 80), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, sortMax uint8) {
		var v []float64
		for len(data) >= 8 {
			x := math.Float64frombits(binary.LittleEndian.Uint64(data))
			data = data[8:]
			if !math.IsNaN(x) && !math.IsInf(x, 0) && math.Abs(x) < 1e150 {
				v = append(v, x)
			}
		}
		checkStream(t, v, int(sortMax)+1)
	})
}

// BenchmarkStreamStats compares the streamed Stat with sorting a copy (what the summary
// did before), on 2M latency-like values; memory per op shows the difference.
//
//	go test ./internal/stats -run '^$' -bench StreamStats -benchmem -count 6
func BenchmarkStreamStats(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	v := make([]float64, 2_000_000)
	for i := range v {
		v[i] = float64(rng.Int64N(80_000_000)) / 1e6
	}
	b.Run("method=stream", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			passes := 0
			if _, err := StreamStats(1, 1<<16, streamOf(v, &passes)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("method=sort", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = NewStat(slices.Clone(v))
		}
	})
}

// TestStreamPercentiles: any percentile, streamed or sorted in memory, is Percentile of the
// sorted values exactly; none are NaN.
func TestStreamPercentiles(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	v := make([]float64, 30000)
	for i := range v {
		v[i] = float64(rng.Int64N(80_000_000)) / 1e6
	}
	sorted := slices.Sorted(slices.Values(v))
	ps := []float64{0, 25, 50, 99.9, 100}
	for _, sortMax := range []int{16, DefaultSortMax} {
		st, got, err := StreamPercentiles(sortMax, ps, func(add func(float64)) error {
			for _, x := range v {
				add(x)
			}
			return nil
		})
		if err != nil || st.N != len(v) || st.P99 != Percentile(sorted, 99) {
			t.Fatalf("sortMax %d: %+v, %v", sortMax, st, err)
		}
		for i, p := range ps {
			if want := Percentile(sorted, p); got[i] != want {
				t.Errorf("sortMax %d: p%v = %v, want %v", sortMax, p, got[i], want)
			}
		}
	}
	if _, got, _ := StreamPercentiles(0, ps, func(func(float64)) error { return nil }); !math.IsNaN(got[0]) || len(got) != len(ps) {
		t.Errorf("no values: %v, want NaNs", got)
	}
}
