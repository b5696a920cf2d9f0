package fit

import (
	"fmt"
	"math"
)

// Scaling is the measured scaling at one GPU count.
//
// With N0 the smallest GPU count of the series (the baseline) and X̄(N) the arithmetic mean of
// the repeats at N:
//
//	Ideal(N)      = N / N0
//	Speedup(N)    = X̄(N) / X̄(N0)
//	Efficiency(N) = Speedup(N) / Ideal(N)
//
// When N0 = 1 these are the textbook S(N) = X(N)/X(1) and S(N)/N. When the series starts at
// N0 > 1 GPUs, the baseline is the N0-GPU server and N is counted in units of N0 GPUs: a 2→8 GPU
// series has Ideal 1, 2, 4 and a perfect series has efficiency 1 at every point. Nothing is
// assumed about scaling below N0 (Normalisation says so in words).
type Scaling struct {
	GPUs       int
	Repeats    int     // points at this GPU count
	Mean       float64 // X̄(N): arithmetic mean throughput over repeats
	SD         float64 // sample standard deviation over repeats; 0 with one repeat
	Ideal      float64 // N / N0
	Speedup    float64 // X̄(N) / X̄(N0)
	Efficiency float64 // Speedup / Ideal
}

// Speedups returns the scaling of every GPU count of s, smallest first, and a sentence that
// says how speedup is normalised. It fails on an invalid point or fewer than two GPU counts.
func Speedups(s Series) ([]Scaling, string, error) {
	lv, err := levels(s)
	if err != nil {
		return nil, "", err
	}
	sc := speedups(lv)
	return sc, normalisation(lv[0].n), nil
}

func speedups(lv []level) []Scaling {
	n0, x0 := float64(lv[0].n), lv[0].mean()
	out := make([]Scaling, len(lv))
	for i, l := range lv {
		m := l.mean()
		ideal := float64(l.n) / n0
		out[i] = Scaling{
			GPUs: l.n, Repeats: len(l.x), Mean: m, SD: l.sd(),
			Ideal: ideal, Speedup: m / x0, Efficiency: m / x0 / ideal,
		}
	}
	return out
}

func normalisation(n0 int) string {
	if n0 == 1 {
		return "speedup S(N) = X(N)/X(1); efficiency S(N)/N"
	}
	return fmt.Sprintf("the series starts at %d GPUs: speedup S(N) = X(N)/X(%d) and efficiency = S(N)/(N/%d), "+
		"N counted in units of %d GPUs; scaling below %d GPUs is not measured", n0, n0, n0, n0, n0)
}

// standardError is SD/sqrt(repeats), NaN with one repeat.
func (s Scaling) standardError() float64 {
	if s.Repeats < 2 {
		return math.NaN()
	}
	return s.SD / math.Sqrt(float64(s.Repeats))
}
