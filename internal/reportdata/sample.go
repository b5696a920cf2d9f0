package reportdata

import (
	"math"
	"slices"
)

// Limits on what the report embeds, so report.html stays small whatever the campaign.
const (
	// MaxCDFPoints is the most quantiles a latency CDF keeps.
	MaxCDFPoints = 200
	// MaxTimelinePoints is the most samples a timeline keeps.
	MaxTimelinePoints = 300
	// curvePoints is how many points a fitted curve is sampled at.
	curvePoints = 64
)

// CDFFromSamples makes the CDF of latencies (milliseconds, any order; NaN and ±Inf dropped)
// with at most limit points (MaxCDFPoints when limit ≤ 0). Up to limit samples, every sample is a
// point (the exact empirical CDF). Beyond, the points are quantiles: evenly spaced in
// probability for the body and log-spaced towards 1 for the tail (p99, p99.9 and the maximum
// stay visible). Quantiles are the empirical inverse: the smallest sample x with F(x) ≥ p.
func CDFFromSamples(samples []float64, limit int) CDF {
	if limit <= 0 {
		limit = MaxCDFPoints
	}
	xs := make([]float64, 0, len(samples))
	for _, v := range samples {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			xs = append(xs, v)
		}
	}
	if len(xs) == 0 {
		return CDF{}
	}
	slices.Sort(xs)
	n := len(xs)
	if n <= limit {
		c := CDF{P: make(Values, n), Ms: xs}
		for i := range xs {
			c.P[i] = float64(i+1) / float64(n)
		}
		return c
	}
	var c CDF
	for _, p := range cdfProbabilities(limit) {
		i := int(math.Ceil(p*float64(n))) - 1
		i = min(max(i, 0), n-1)
		c.P = append(c.P, p)
		c.Ms = append(c.Ms, xs[i])
	}
	return c
}

// cdfProbabilities returns limit probabilities in (0, 1]: three quarters evenly spaced
// up to 0.99, the rest log-spaced from 0.99 to 0.9999, then 1.
func cdfProbabilities(limit int) []float64 {
	body := limit * 3 / 4
	tail := limit - body - 1
	ps := make([]float64, 0, limit)
	for i := 1; i <= body; i++ {
		ps = append(ps, 0.99*float64(i)/float64(body))
	}
	for i := 1; i <= tail; i++ {
		// 1 − p runs from 1e-2 down to 1e-4.
		ps = append(ps, 1-math.Pow(10, -2-2*float64(i)/float64(tail)))
	}
	return append(ps, 1)
}

// DownsampleTimeline returns t with at most limit samples (MaxTimelinePoints when limit ≤ 0):
// samples are grouped into limit consecutive buckets of (nearly) equal size and every column is
// averaged over its bucket, ignoring NaN (a bucket of NaN stays NaN). Bucket means keep the
// columns aligned, which per-column LTTB would not.
func DownsampleTimeline(t Timeline, limit int) Timeline {
	if limit <= 0 {
		limit = MaxTimelinePoints
	}
	n := len(t.OffsetS)
	if n <= limit {
		return t
	}
	out := t
	out.OffsetS = bucketMeans(t.OffsetS, n, limit)
	out.Running = bucketMeans(t.Running, n, limit)
	out.Waiting = bucketMeans(t.Waiting, n, limit)
	out.KVUsage = bucketMeans(t.KVUsage, n, limit)
	out.GPUUtil = bucketMeans(t.GPUUtil, n, limit)
	out.RequestRate = bucketMeans(t.RequestRate, n, limit)
	return out
}

// bucketMeans averages v (which should have n values; a nil column stays nil, a short one is
// padded with NaN) over the given number of buckets.
func bucketMeans(v Values, n, buckets int) Values {
	if v == nil {
		return nil
	}
	out := make(Values, buckets)
	for b := range buckets {
		lo, hi := b*n/buckets, (b+1)*n/buckets
		sum, k := 0.0, 0
		for i := lo; i < hi && i < len(v); i++ {
			if !math.IsNaN(v[i]) && !math.IsInf(v[i], 0) {
				sum += v[i]
				k++
			}
		}
		out[b] = math.NaN()
		if k > 0 {
			out[b] = sum / float64(k)
		}
	}
	return out
}

// AmdahlCurve samples X(N) = X1·N / (1 + s(N−1)) from N = 1 to maxN.
func AmdahlCurve(x1, s float64, maxN float64) []XY {
	return sampleCurve(maxN, func(n float64) float64 { return x1 * n / (1 + s*(n-1)) })
}

// USLCurve samples X(N) = λN / (1 + σ(N−1) + κN(N−1)) from N = 1 to maxN.
func USLCurve(lambda, sigma, kappa float64, maxN float64) []XY {
	return sampleCurve(maxN, func(n float64) float64 {
		return lambda * n / (1 + sigma*(n-1) + kappa*n*(n-1))
	})
}

func sampleCurve(maxN float64, f func(float64) float64) []XY {
	if !(maxN > 1) || math.IsInf(maxN, 0) {
		maxN = 1
	}
	out := make([]XY, 0, curvePoints+1)
	for i := 0; i <= curvePoints; i++ {
		n := 1 + (maxN-1)*float64(i)/curvePoints
		y := f(n)
		if math.IsNaN(y) || math.IsInf(y, 0) {
			continue
		}
		out = append(out, XY{X: Round(n, 4), Y: Round(y, 4)})
	}
	return out
}

// Round rounds v to d decimals, which keeps the embedded JSON and golden files short.
func Round(v float64, d int) float64 {
	p := math.Pow(10, float64(d))
	return math.Round(v*p) / p
}

// ParetoFromExperiments returns one point per experiment that has a summary.
func ParetoFromExperiments(exps []Experiment) []ParetoPoint {
	var out []ParetoPoint
	for _, e := range exps {
		if e.Summary == nil || e.Status == StatusFailed {
			continue
		}
		out = append(out, ParetoPoint{
			ExpID: e.ID, Config: e.Config, GPUs: e.Factors.GPUs,
			PerGPU: e.Summary.OutputThroughputPerGPU, PerUser: e.Summary.TokensPerUser,
		})
	}
	return out
}
