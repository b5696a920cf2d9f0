package fit

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// AmdahlResult is Amdahl's law fitted to a series:
//
//	X(N) = X1·N / (1 + s·(N−1)),  X1 > 0,  0 ≤ s ≤ 1
//
// X1 is the single-GPU throughput the fit implies (it need not be measured: the series may
// start above one GPU) and s the serial fraction: the share of single-GPU time that more GPUs
// do not shorten. Speedup is bounded by 1/s.
//
// The fit minimises the squared relative error, Σ (ln Xᵢ − ln X(Nᵢ))² over every point
// (repeats included): throughput noise grows with the throughput, so relative errors are the
// ones of equal size across GPU counts. For a fixed s the best X1 is closed-form (the geometric
// mean of Xᵢ·(1+s(Nᵢ−1))/Nᵢ), so the fit is a one-dimensional search over s in [0, 1]: a grid
// denser near 0, then Brent's method (golden section with parabolic steps) to about 1e-9.
type AmdahlResult struct {
	X1 float64
	S  float64
	// SAtBound is true when s sits on a bound: 0 (the data scale linearly or better) or 1 (no
	// scaling at all). The interval then touches the bound too.
	SAtBound bool
	// SInterval and X1Interval are bootstrap percentile intervals (Bootstrap says how); NaN
	// bounds when no interval could be made.
	SInterval, X1Interval Interval
	Bootstrap             Bootstrap
	Goodness              Goodness
}

// Interval is a confidence interval [Lo, Hi].
type Interval struct{ Lo, Hi float64 }

// Contains reports whether v lies in [Lo, Hi].
func (iv Interval) Contains(v float64) bool { return iv.Lo <= v && v <= iv.Hi }

// Throughput is the fitted X(N).
func (a AmdahlResult) Throughput(n float64) float64 { return AmdahlThroughput(a.X1, a.S, n) }

// AmdahlThroughput is X1·N / (1 + s·(N−1)).
func AmdahlThroughput(x1, s, n float64) float64 { return x1 * n / (1 + s*(n-1)) }

// Amdahl fits Amdahl's law to s with a bootstrap interval (see Bootstrap for the method).
func Amdahl(s Series, rng *rand.Rand, opts Options) (AmdahlResult, error) {
	lv, err := levels(s)
	if err != nil {
		return AmdahlResult{}, err
	}
	if err := opts.check(rng); err != nil {
		return AmdahlResult{}, fmt.Errorf("amdahl fit of series %q: %w", s.Name, err)
	}
	return amdahl(s, lv, rng, opts.withDefaults()), nil
}

func amdahl(s Series, lv []level, rng *rand.Rand, opts Options) AmdahlResult {
	g := groupLogs(lv)
	x1, sf := g.fitAmdahl()
	res := AmdahlResult{X1: x1, S: sf, SAtBound: sf <= 0 || sf >= 1}
	res.Goodness = goodness(s.Points, func(n float64) float64 { return AmdahlThroughput(x1, sf, n) })
	res.SInterval, res.X1Interval, res.Bootstrap = bootstrapAmdahl(lv, g, x1, sf, rng, opts)
	return res
}

// logGroups is a series reduced to what the log-space fits need: per GPU count N, the number of
// points k and the mean m of ln X. Σᵢ (ln Xᵢ − f(Nᵢ))² = const + Σ_N k_N (m_N − f(N))², so fits
// on groups equal fits on all points. lnN and nm1 (N − 1) are kept to save work in the search.
type logGroups struct {
	n, k, m, lnN, nm1 []float64
}

func groupLogs(lv []level) logGroups {
	g := logGroups{}
	for _, l := range lv {
		n := float64(l.n)
		g.n, g.k, g.m = append(g.n, n), append(g.k, float64(len(l.x))), append(g.m, meanOf(l.logX))
		g.lnN, g.nm1 = append(g.lnN, math.Log(n)), append(g.nm1, n-1)
	}
	return g
}

// withMeans is g with other means of ln X (a bootstrap resample).
func (g logGroups) withMeans(m []float64) logGroups {
	g.m = m
	return g
}

// amdahlProfile returns, for a fixed s, the best ln X1 and the (between-group) squared error.
// With dᵢ = mᵢ − ln(Nᵢ/(1+s(Nᵢ−1))), ln X1 = Σkd/Σk and the error is Σk(d − ln X1)², computed in
// one pass on d shifted by its first value, which keeps the subtraction exact enough.
func (g logGroups) amdahlProfile(s float64) (lnX1, sse float64) {
	var sumK, sum, sumSq, ref float64
	for i := range g.n {
		d := g.m[i] - g.lnN[i] + math.Log1p(s*g.nm1[i])
		if i == 0 {
			ref = d
		}
		d -= ref
		sumK += g.k[i]
		sum += g.k[i] * d
		sumSq += g.k[i] * d * d
	}
	return ref + sum/sumK, math.Max(sumSq-sum*sum/sumK, 0)
}

// amdahlGrid is the number of intervals of the coarse search over s; grid points are (j/J)², so
// they are dense near 0 where typical serial fractions lie (first step 1/J² = 0.0025).
const amdahlGrid = 20

// fitAmdahl returns X1 and s that minimise the squared error in log space: the best point of
// the grid, refined by Brent's method between its neighbours.
func (g logGroups) fitAmdahl() (x1, s float64) {
	sse := func(s float64) float64 { _, v := g.amdahlProfile(s); return v }
	best, bestV := 0, math.Inf(1)
	for j := 0; j <= amdahlGrid; j++ {
		if v := sse(gridS(j)); v < bestV {
			best, bestV = j, v
		}
	}
	s = gridS(best)
	if c := brentMin(sse, gridS(max(best-1, 0)), gridS(min(best+1, amdahlGrid)), 1e-9); sse(c) < bestV {
		s = c
	}
	lnX1, _ := g.amdahlProfile(s)
	return math.Exp(lnX1), s
}

func gridS(j int) float64 {
	u := float64(j) / amdahlGrid
	return u * u
}

// GustafsonPoint is Gustafson's scaled speedup at one GPU count, with the range it spans over
// the serial-fraction interval.
type GustafsonPoint struct {
	GPUs          int
	ScaledSpeedup float64 // N − s(N−1) with the fitted s
	Lo, Hi        float64 // the same with s at the upper and lower end of its interval
}

// Gustafson is Gustafson's scaled speedup N − s·(N−1).
//
// Amdahl fixes the work and asks how much faster N GPUs do it; Gustafson lets the work grow with
// N (weak scaling: in serving, load that grows with the GPUs) and takes s as the share of the
// N-GPU run spent in serial work that does not grow. Fed with Amdahl's fitted s it is not a fit
// of the data but an optimistic reference: the speedup if the serial part stayed the same size
// while the parallel work grew with N. A measured speedup far below it means the serial or
// coordination work grows with the load, not only that a fixed part does not shrink.
func Gustafson(s float64, n int) float64 { return float64(n) - s*float64(n-1) }

func gustafsonPoints(lv []level, a AmdahlResult) []GustafsonPoint {
	out := make([]GustafsonPoint, len(lv))
	for i, l := range lv {
		out[i] = GustafsonPoint{
			GPUs: l.n, ScaledSpeedup: Gustafson(a.S, l.n),
			Lo: Gustafson(a.SInterval.Hi, l.n), Hi: Gustafson(a.SInterval.Lo, l.n),
		}
	}
	return out
}
