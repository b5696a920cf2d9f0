package fit

import (
	"fmt"
	"math"
	"testing"
)

func TestPercentileInterval(t *testing.T) {
	t.Parallel()
	v := []float64{10, 1, 9, 2, 8, 3, 7, 4, 6, 5, 0} // 0…10
	// Type 7: h = q·(n−1) = 0.025·10 = 0.25 → 0.25; 0.975·10 = 9.75 → 9.75.
	if got := percentileInterval(v, 0.95); math.Abs(got.Lo-0.25) > 1e-12 || math.Abs(got.Hi-9.75) > 1e-12 {
		t.Errorf("percentileInterval = %+v, want {0.25 9.75}", got)
	}
	if got := (Interval{0.1, 0.3}).widen(0.2, 2, 0, 0.45); math.Abs(got.Lo-0) > 1e-12 || math.Abs(got.Hi-0.4) > 1e-12 {
		t.Errorf("widen = %+v, want {0 0.4} (Lo clamped at 0)", got)
	}
}

func TestInflatedRepeatsKeepMeanScaleSpread(t *testing.T) {
	t.Parallel()
	got := inflate([]float64{1, 3}) // mean 2, deviations ±1 scaled by sqrt(2)
	if math.Abs(got[0]-(2-math.Sqrt2)) > 1e-12 || math.Abs(got[1]-(2+math.Sqrt2)) > 1e-12 {
		t.Errorf("inflate = %v, want [2−√2 2+√2]", got)
	}
}

// BenchmarkAmdahlBootstrap measures one Amdahl fit with its bootstrap interval (the default
// 2000 resamples), the cost paid per series.
//
//	go test ./internal/fit -run '^$' -bench AmdahlBootstrap -benchmem -count 10 | tee new.txt
//	benchstat old.txt new.txt
func BenchmarkAmdahlBootstrap(b *testing.B) {
	for _, tc := range []struct {
		gpus    []int
		repeats int
	}{
		{[]int{1, 2, 4, 8}, 1},
		{[]int{1, 2, 4, 8}, 5},
		{[]int{1, 2, 4, 8, 16, 32, 64, 128}, 3},
	} {
		ser := synthSeries(newRNG(1), "bench", amdahlCurve(1000, 0.1), 0.03, tc.gpus, tc.repeats)
		b.Run(fmt.Sprintf("counts=%d/repeats=%d", len(tc.gpus), tc.repeats), func(b *testing.B) {
			b.ReportAllocs()
			rng := newRNG(2)
			for b.Loop() {
				if _, err := Amdahl(ser, rng, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
