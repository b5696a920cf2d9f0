package stats

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// sameOrder compares bit for bit, so that -0 and +0 or two NaNs are told apart.
func sameOrder(a, b []float64) bool {
	return slices.EqualFunc(a, b, func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) })
}

// TestSortFloats: the radix sort gives slices.Sort's order for latencies, wide ranges,
// negatives, duplicates and infinities, at every length around the radix threshold.
func TestSortFloats(t *testing.T) {
	t.Parallel()
	gens := map[string]func(r *rand.Rand) float64{
		"latency ms":   func(r *rand.Rand) float64 { return float64(8_000_000+r.Int64N(8_000_000)) / 1e6 },
		"log-normal":   func(r *rand.Rand) float64 { return 100 * math.Exp(r.NormFloat64()) },
		"signed":       func(r *rand.Rand) float64 { return r.NormFloat64() * 1e3 },
		"few distinct": func(r *rand.Rand) float64 { return float64(r.IntN(5)) },
		"extremes": func(r *rand.Rand) float64 {
			return []float64{math.Inf(1), math.Inf(-1), math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64, 1, -1}[r.IntN(7)]
		},
	}
	for name, gen := range gens {
		for _, n := range []int{0, 1, radixMin - 1, radixMin, radixMin + 1, 10_000} {
			t.Run(fmt.Sprintf("%s/n=%d", name, n), func(t *testing.T) {
				t.Parallel()
				r := rand.New(rand.NewPCG(uint64(n), 7))
				v := make([]float64, n)
				for i := range v {
					v[i] = gen(r)
				}
				want := slices.Clone(v)
				slices.Sort(want)
				SortFloats(v)
				if !sameOrder(v, want) {
					t.Fatalf("SortFloats differs from slices.Sort")
				}
			})
		}
	}
}

// TestSortFloatsNaN: a NaN sends the slice to slices.Sort, NaNs where it puts them.
func TestSortFloatsNaN(t *testing.T) {
	t.Parallel()
	v := make([]float64, 2*radixMin)
	for i := range v {
		v[i] = float64(len(v) - i)
	}
	v[100] = math.NaN()
	SortFloats(v)
	if !math.IsNaN(v[0]) || !slices.IsSorted(v[1:]) {
		t.Fatalf("NaN at %v, sorted rest %v", v[0], slices.IsSorted(v[1:]))
	}
}

// FuzzSortFloats: any floats (bit patterns from the input; NaN-free ones by radix) come out
// in slices.Sort's order.
func FuzzSortFloats(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8})
	f.Add(make([]byte, 8*radixMin))
	f.Fuzz(func(t *testing.T, data []byte) {
		n := len(data) / 8
		v := make([]float64, 0, max(n, radixMin))
		for i := range n {
			v = append(v, math.Float64frombits(binary.LittleEndian.Uint64(data[8*i:])))
		}
		for len(v) < radixMin && n > 0 { // reach the radix path with the input's values
			v = append(v, v[len(v)%n])
		}
		want := slices.Clone(v)
		slices.Sort(want)
		SortFloats(v)
		if slices.ContainsFunc(want, math.IsNaN) {
			if !slices.IsSorted(v) { // NaN: slices.Sort's own order
				t.Fatal("not sorted")
			}
			return
		}
		for i := range v { // -0 and +0 are equal: either order is slices.Sort's
			if v[i] != want[i] {
				t.Fatalf("at %d: %v, want %v", i, v[i], want[i])
			}
		}
	})
}

// BenchmarkSortFloats: one experiment's chunk gaps (75,000 values of 8–16 ms).
//
//	go test ./internal/stats -run '^$' -bench SortFloats -benchmem -count 6
func BenchmarkSortFloats(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	data := make([]float64, 75_000)
	for i := range data {
		data[i] = float64(8_000_000+r.Int64N(8_000_000)) / 1e6
	}
	v := make([]float64, len(data))
	for _, impl := range []struct {
		name string
		sort func([]float64)
	}{{"slices.Sort", slices.Sort[[]float64]}, {"radix", SortFloats}} {
		b.Run("sort="+impl.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				copy(v, data)
				impl.sort(v)
			}
		})
	}
}
