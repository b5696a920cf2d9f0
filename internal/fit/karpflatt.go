package fit

import (
	"fmt"
	"math"
)

// Karp–Flatt trend thresholds.
const (
	// KarpFlattSlopeThreshold is the change in e per doubling of GPUs above which e counts as
	// rising or falling. Under USL e(N) = σ + κN, so on 1-2-4-8 GPUs the slope is
	// (e(8) − e(2))/2 = 3κ and 0.01 means κ ≈ 0.0033: with σ = 0.05 throughput peaks near
	// N* ≈ 17 GPUs, two nodes of 8. Smaller slopes are below what 1-2-4-8 measurements with a
	// few percent of noise resolve (the slope's standard error is about 0.009 with 3% noise and
	// 5 repeats).
	KarpFlattSlopeThreshold = 0.01
	// KarpFlattConfidence is the level of the two-sided test that a slope beyond the threshold
	// is not noise: |Slope| must exceed t·SlopeSE, t the Student-t quantile for the
	// Welch–Satterthwaite degrees of freedom of SlopeSE (the repeats behind each mean, weighted by
	// their share of the variance). A normal quantile (2 SE) called flat 1-2-4-8 series with
	// 3–5 repeats rising or falling 7–10% of the time, because SlopeSE is itself estimated from
	// those few repeats; the t quantile, 2–4.5%.
	KarpFlattConfidence = 0.95
	// MinKarpFlattPoints is the fewest e values (GPU counts above the baseline) a trend is
	// judged on: two points always lie on a line.
	MinKarpFlattPoints = 3
)

// Trend is how Karp–Flatt's e(N) moves with N.
type Trend string

// Trends.
const (
	TrendRising  Trend = "rising"  // overhead that grows with N (communication, coordination)
	TrendFlat    Trend = "flat"    // a true serial part, as Amdahl assumes
	TrendFalling Trend = "falling" // better than Amdahl at large N (superlinear effects)
	TrendUnknown Trend = "unknown" // too few points or too much noise; Reason says which
)

// KarpFlattPoint is the experimentally determined serial fraction at one GPU count.
type KarpFlattPoint struct {
	GPUs int
	E    float64 // e(N)
	SE   float64 // standard error of e(N) from the repeats (delta method); NaN without repeats
}

// KarpFlattResult is e(N) for every GPU count above the baseline and its trend.
type KarpFlattResult struct {
	Points []KarpFlattPoint
	Trend  Trend
	// Slope is the least-squares slope of e against log2 N: the change in e per doubling.
	Slope float64
	// SlopeSE is its standard error, NaN when some GPU count has a single point, and SlopeDF
	// the degrees of freedom of that estimate (0 with no SE).
	SlopeSE float64
	SlopeDF int
	Reason  string
}

// KarpFlatt computes the Karp–Flatt metric from the scaling of a series (as Speedups returns
// it, baseline first):
//
//	e(N) = (1/S − 1/p) / (1 − 1/p),  p = N/N0 the ideal speedup, S = X̄(N)/X̄(N0)
//
// With N0 = 1 this is Karp and Flatt's formula; with N0 > 1, e is the serial fraction of an
// N0-GPU unit. If Amdahl holds with serial fraction s, e is constant: s when N0 = 1, and
// s·N0/(1+s(N0−1)) otherwise, so "flat" means the same in both cases.
//
// Its standard error comes from the standard errors of the means (delta method):
// Var e(N) = a²(cv0² + cv²), a = (1/S)/(1−1/p), cv = SE/mean at N and at N0; the baseline term
// is shared by all points, and Var(Slope) includes that covariance.
//
// Trend: Slope is fitted to e against log2 N. Fewer than MinKarpFlattPoints e values: unknown.
// |Slope| ≤ KarpFlattSlopeThreshold: flat. Beyond it: rising or falling by its sign when the
// slope passes the test of KarpFlattConfidence (or when there are no repeats to test it with,
// said in Reason), otherwise unknown.
func KarpFlatt(sc []Scaling) KarpFlattResult {
	res := KarpFlattResult{Trend: TrendUnknown, Slope: math.NaN(), SlopeSE: math.NaN()}
	if len(sc) < 2 {
		res.Reason = "Karp–Flatt needs two or more GPU counts"
		return res
	}
	base := sc[0]
	cv0 := base.standardError() / base.Mean
	var a, cv, x []float64
	for _, p := range sc[1:] {
		inv := 1 / p.Speedup
		ai := inv / (1 - 1/p.Ideal)
		cvi := p.standardError() / p.Mean
		e := (inv - 1/p.Ideal) / (1 - 1/p.Ideal)
		res.Points = append(res.Points, KarpFlattPoint{GPUs: p.GPUs, E: e, SE: ai * math.Sqrt(cv0*cv0+cvi*cvi)})
		a, cv, x = append(a, ai), append(cv, cvi), append(x, math.Log2(p.Ideal))
	}
	if len(res.Points) < MinKarpFlattPoints {
		res.Reason = fmt.Sprintf("a Karp–Flatt trend needs %d or more GPU counts above the baseline (N0 = %d), this series has %d",
			MinKarpFlattPoints, base.GPUs, len(res.Points))
		return res
	}
	var df []int
	for _, p := range sc {
		df = append(df, p.Repeats-1)
	}
	res.Slope, res.SlopeSE, res.SlopeDF = slopeWithSE(x, a, cv, cv0, df, res.Points)
	res.Trend, res.Reason = classify(res.Slope, res.SlopeSE, res.SlopeDF)
	return res
}

// slopeWithSE is the OLS slope of e on x, its standard error under the delta-method covariance
// Cov(eᵢ, eⱼ) = aᵢaⱼ·cv0² (+ aᵢ²cvᵢ² on the diagonal), and the Welch–Satterthwaite degrees of
// freedom of that variance: (Σ Tⱼ)² / Σ Tⱼ²/dfⱼ over its terms Tⱼ (dfⱼ = repeats − 1, baseline
// first), rounded down.
func slopeWithSE(x, a, cv []float64, cv0 float64, dfs []int, pts []KarpFlattPoint) (slope, se float64, df int) {
	xm := meanOf(x)
	sxx := 0.0
	for _, xi := range x {
		sxx += (xi - xm) * (xi - xm)
	}
	terms := make([]float64, len(pts)+1) // baseline first
	shared := 0.0
	for i, p := range pts {
		w := (x[i] - xm) / sxx
		slope += w * p.E
		terms[i+1] = w * w * a[i] * a[i] * cv[i] * cv[i]
		shared += w * a[i]
	}
	terms[0] = shared * shared * cv0 * cv0
	variance, denom := 0.0, 0.0
	for j, tj := range terms {
		variance += tj
		denom += tj * tj / float64(dfs[j])
	}
	se = math.Sqrt(variance)
	if math.IsNaN(se) || denom == 0 {
		return slope, se, 0
	}
	return slope, se, max(1, int(variance*variance/denom))
}

func classify(slope, se float64, df int) (Trend, string) {
	change := fmt.Sprintf("e changes by %+.4f per doubling of GPUs", slope)
	if math.Abs(slope) <= KarpFlattSlopeThreshold {
		return TrendFlat, fmt.Sprintf("%s, within ±%g: a serial part that does not grow with N", change, KarpFlattSlopeThreshold)
	}
	trend, why := TrendRising, "overhead that grows with N"
	if slope < 0 {
		trend, why = TrendFalling, "the series scales better at large N than at small (superlinear effects, or a limited baseline)"
	}
	if se == 0 {
		return trend, fmt.Sprintf("%s, beyond ±%g: %s; the repeats agree exactly, so there is no noise to test against",
			change, KarpFlattSlopeThreshold, why)
	}
	if math.IsNaN(se) || df == 0 {
		return trend, fmt.Sprintf("%s, beyond ±%g: %s; without repeats the slope is not tested against noise",
			change, KarpFlattSlopeThreshold, why)
	}
	crit := studentQuantile2(KarpFlattConfidence, df)
	if math.Abs(slope) > crit*se {
		return trend, fmt.Sprintf("%s, beyond ±%g and %.1f standard errors from zero (%g%% test needs %.2f, %d df): %s",
			change, KarpFlattSlopeThreshold, math.Abs(slope)/se, 100*KarpFlattConfidence, crit, df, why)
	}
	return TrendUnknown, fmt.Sprintf("%s, beyond ±%g, but only %.1f standard errors (%.4f) from zero where a %g%% test "+
		"needs %.2f (%d df): too noisy to tell; measure more repeats",
		change, KarpFlattSlopeThreshold, math.Abs(slope)/se, se, 100*KarpFlattConfidence, crit, df)
}
