package fit

import (
	"math"
	"math/rand/v2"
	"slices"
)

// BootstrapMethod says how bootstrap resamples were made.
type BootstrapMethod string

// Bootstrap methods.
const (
	// BootstrapRepeats resamples, at every GPU count, as many points as it has, with replacement
	// from that GPU count's repeats (a case bootstrap stratified by N); the repeats' deviations
	// from their mean are first scaled by sqrt(k/(k−1)), so that a resampled mean has the
	// variance of a fresh one. Used when every GPU count has two or more repeats: it assumes
	// nothing about the shape of the curve or of the noise.
	BootstrapRepeats BootstrapMethod = "repeats"
	// BootstrapResiduals refits the fitted curve plus relative residuals drawn with replacement
	// from all points, each scaled by sqrt(n/(n−p)) for the p = 2 fitted parameters (a standard
	// correction, e.g. Davison & Hinkley 1997, ch. 6). Used when some GPU count has a single point.
	BootstrapResiduals BootstrapMethod = "residuals"
	// BootstrapNone: no interval, Note says why (no residual left with n = 2 points).
	BootstrapNone BootstrapMethod = "none"
)

// Bootstrap describes how an interval was made.
//
// A percentile bootstrap behaves like a normal-theory interval with the noise level taken as
// known, so with the few points of a scaling series it is too narrow: with 1-2-4-8 GPUs and one
// point each (2 residual degrees of freedom) a nominal 95% interval covers the truth about 80%
// of the time. The interval is therefore widened around the estimate by Widen = t(DF)/z, the
// ratio of the Student-t and normal quantiles of the confidence level, with DF the degrees of
// freedom of the noise estimate: n − (GPU counts) for the repeat bootstrap, n − 2 for the
// residual one. With many points Widen tends to 1 and the interval is the plain percentile one.
type Bootstrap struct {
	Method     BootstrapMethod
	Resamples  int     // resamples refitted
	Confidence float64 // e.g. 0.95
	DF         int     // degrees of freedom of the noise estimate
	Widen      float64 // t(DF)/z; 1 means a plain percentile interval
	Note       string  // caveats, in words; empty when there are none
}

// Resampling defaults.
const (
	// DefaultResamples is the bootstrap size. 2000 resamples put the 2.5th and 97.5th
	// percentiles on 50 resamples each, enough for their Monte Carlo error to be a small
	// fraction of the interval width (Efron & Tibshirani recommend ≥ 1000 for percentile
	// intervals); it costs a few milliseconds per series.
	DefaultResamples = 2000
	// DefaultConfidence is the level of the intervals.
	DefaultConfidence = 0.95
)

// bootstrapAmdahl returns the (widened) percentile intervals for s and X1.
func bootstrapAmdahl(lv []level, g logGroups, x1, s float64, rng *rand.Rand, opts Options) (sIv, x1Iv Interval, info Bootstrap) {
	info = Bootstrap{Confidence: opts.Confidence}
	nan := Interval{math.NaN(), math.NaN()}
	draw := newResampler(lv, x1, s)
	if draw == nil {
		info.Method = BootstrapNone
		info.Note = "two GPU counts with one point each fit exactly, leaving no residual to resample; " +
			"measure repeats or more GPU counts to get an interval"
		return nan, nan, info
	}
	info.Method, info.Resamples, info.Note, info.DF = draw.method, opts.Resamples, draw.note, draw.df
	info.Widen = studentQuantile2(opts.Confidence, draw.df) / normalQuantile2(opts.Confidence)
	ss, xs := make([]float64, opts.Resamples), make([]float64, opts.Resamples)
	bg := g.withMeans(make([]float64, len(g.m)))
	for b := range opts.Resamples {
		draw.fill(rng, bg.m)
		xs[b], ss[b] = bg.fitAmdahl()
	}
	sIv = percentileInterval(ss, opts.Confidence).widen(s, info.Widen, 0, 1)
	x1Iv = percentileInterval(xs, opts.Confidence).widen(x1, info.Widen, 0, math.Inf(1))
	return sIv, x1Iv, info
}

// widen scales the distances of iv's bounds from est by f, keeping them within [lo, hi].
func (iv Interval) widen(est, f, lo, hi float64) Interval {
	return Interval{
		Lo: math.Max(est-f*(est-iv.Lo), lo),
		Hi: math.Min(est+f*(iv.Hi-est), hi),
	}
}

// resampler draws the group means of ln X of one bootstrap resample.
type resampler struct {
	method BootstrapMethod
	note   string
	df     int         // degrees of freedom of the noise estimate
	obs    [][]float64 // repeats: ln X per GPU count
	fitted []float64   // residuals: fitted ln X per GPU count
	counts []int       // residuals: points per GPU count
	resid  []float64   // residuals: scaled log residuals of all points
}

func newResampler(lv []level, x1, s float64) *resampler {
	if allRepeated(lv) {
		r := &resampler{method: BootstrapRepeats}
		for _, l := range lv {
			r.obs = append(r.obs, inflate(l.logX))
			r.df += len(l.x) - 1
		}
		return r
	}
	n := 0
	for _, l := range lv {
		n += len(l.x)
	}
	const params = 2
	if n <= params {
		return nil
	}
	r := &resampler{method: BootstrapResiduals, df: n - params,
		note: "no repeats at some GPU count: residual bootstrap, which assumes the Amdahl curve is right " +
			"and the relative noise is the same at every GPU count"}
	scale := math.Sqrt(float64(n) / float64(n-params))
	for _, l := range lv {
		f := math.Log(AmdahlThroughput(x1, s, float64(l.n)))
		r.fitted = append(r.fitted, f)
		r.counts = append(r.counts, len(l.x))
		for _, lx := range l.logX {
			r.resid = append(r.resid, (lx-f)*scale)
		}
	}
	center(r.resid)
	return r
}

func (r *resampler) fill(rng *rand.Rand, m []float64) {
	for i := range m {
		if r.obs != nil {
			m[i] = meanDraw(rng, r.obs[i], len(r.obs[i]))
		} else {
			m[i] = r.fitted[i] + meanDraw(rng, r.resid, r.counts[i])
		}
	}
}

// meanDraw is the mean of k values drawn with replacement from v.
func meanDraw(rng *rand.Rand, v []float64, k int) float64 {
	sum := 0.0
	for range k {
		sum += v[rng.IntN(len(v))]
	}
	return sum / float64(k)
}

// inflate returns the repeats' deviations from their mean scaled by sqrt(k/(k−1)), around the
// mean: a mean of k draws from them then has the variance s²/k of the mean of k fresh repeats,
// where plain resampling gives (k−1)/k of it, too narrow with the few repeats benchmarks have.
func inflate(v []float64) []float64 {
	m, k := meanOf(v), float64(len(v))
	f := math.Sqrt(k / (k - 1))
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = m + (x-m)*f
	}
	return out
}

func center(v []float64) {
	m := meanOf(v)
	for i := range v {
		v[i] -= m
	}
}

// percentileInterval is the central conf interval of v: its (1−conf)/2 and (1+conf)/2
// quantiles, interpolated linearly between order statistics (Hyndman & Fan type 7). v is sorted
// in place.
func percentileInterval(v []float64, conf float64) Interval {
	slices.Sort(v)
	return Interval{quantile(v, (1-conf)/2), quantile(v, (1+conf)/2)}
}

// quantile of sorted v, type 7.
func quantile(v []float64, q float64) float64 {
	h := q * float64(len(v)-1)
	lo := int(math.Floor(h))
	if lo >= len(v)-1 {
		return v[len(v)-1]
	}
	return v[lo] + (h-float64(lo))*(v[lo+1]-v[lo])
}
