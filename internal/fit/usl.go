package fit

import (
	"fmt"
	"math"
)

// MinUSLGPUCounts is the fewest distinct GPU counts USL is fitted on. USL has three parameters
// and σ and κ trade off against each other over a short range of N; with the usual 1-2-4-8
// points the fit has one degree of freedom and any noise moves the loss between σ and κ, so
// MISSION.md asks for six or more points.
const MinUSLGPUCounts = 6

// USLResult is Gunther's Universal Scalability Law fitted to a series:
//
//	X(N) = λN / (1 + σ(N−1) + κN(N−1)),  λ > 0,  0 ≤ σ ≤ 1,  κ ≥ 0
//
// λ is the single-GPU throughput, σ contention (a serial part, as Amdahl's s) and κ coherency:
// a cost paid by every pair of GPUs (N(N−1) grows quadratically), which makes throughput fall
// past a peak at
//
//	N* = sqrt((1−σ)/κ)
//
// The fit minimises squared relative errors as Amdahl does, by Levenberg–Marquardt on
// (ln λ, σ, κ) with bounds held by an active set, started from the best point of a small grid
// over σ and κ (λ closed-form for each).
type USLResult struct {
	// Fitted is false when the series has too few GPU counts; Reason then says so in words and
	// the other fields are zero.
	Fitted bool
	Reason string
	Lambda float64
	Sigma  float64
	Kappa  float64
	// Peak is N* when κ > 0 (and σ < 1), else 0: no peak, throughput never falls.
	Peak float64
	// PeakThroughput is X(N*), 0 when there is no peak.
	PeakThroughput float64
	// PeakBeyondData is true when N* lies above the largest GPU count measured: an
	// extrapolation, to be read as "throughput would stop growing around here".
	PeakBeyondData bool
	Goodness       Goodness
}

// Throughput is the fitted X(N).
func (u USLResult) Throughput(n float64) float64 { return USLThroughput(u.Lambda, u.Sigma, u.Kappa, n) }

// USLThroughput is λN / (1 + σ(N−1) + κN(N−1)).
func USLThroughput(lambda, sigma, kappa, n float64) float64 {
	return lambda * n / (1 + sigma*(n-1) + kappa*n*(n-1))
}

// USL fits the Universal Scalability Law to s. A series with fewer than MinUSLGPUCounts GPU
// counts is not an error: the result has Fitted false and a Reason.
func USL(s Series) (USLResult, error) {
	lv, err := levels(s)
	if err != nil {
		return USLResult{}, err
	}
	return usl(s, lv), nil
}

func usl(s Series, lv []level) USLResult {
	if len(lv) < MinUSLGPUCounts {
		return USLResult{Reason: fmt.Sprintf("USL needs %d or more GPU counts, this series has %d", MinUSLGPUCounts, len(lv))}
	}
	g := groupLogs(lv)
	theta, _ := g.uslProblem().solve(g.uslStart())
	u := USLResult{Fitted: true, Lambda: math.Exp(theta[0]), Sigma: theta[1], Kappa: theta[2]}
	if u.Kappa > 0 && u.Sigma < 1 {
		u.Peak = math.Sqrt((1 - u.Sigma) / u.Kappa)
		u.PeakThroughput = u.Throughput(u.Peak)
		u.PeakBeyondData = u.Peak > float64(lv[len(lv)-1].n)
	}
	u.Goodness = goodness(s.Points, u.Throughput)
	return u
}

// uslDenominator is 1 + σ(N−1) + κN(N−1).
func uslDenominator(sigma, kappa, n float64) float64 { return 1 + sigma*(n-1) + kappa*n*(n-1) }

// uslProblem: residuals √k·(ln λ + ln N − ln D(N) − m) per GPU count, θ = (ln λ, σ, κ).
func (g logGroups) uslProblem() boxLSQ {
	inf := math.Inf(1)
	return boxLSQ{
		m: len(g.n), lower: []float64{-inf, 0, 0}, upper: []float64{inf, 1, inf},
		eval: func(th, r, jac []float64) {
			for i, n := range g.n {
				d, w := uslDenominator(th[1], th[2], n), math.Sqrt(g.k[i])
				r[i] = w * (th[0] + math.Log(n) - math.Log(d) - g.m[i])
				if jac != nil {
					jac[i*3], jac[i*3+1], jac[i*3+2] = w, -w*(n-1)/d, -w*n*(n-1)/d
				}
			}
		},
	}
}

// uslStart is the best (ln λ, σ, κ) on a grid; κ is scaled by the largest N so that the grid
// spans "no coherency cost" to "peak well inside the data" whatever the range of N.
func (g logGroups) uslStart() []float64 {
	nMax := g.n[len(g.n)-1]
	best, bestV := []float64{0, 0, 0}, math.Inf(1)
	for _, sigma := range []float64{0, 0.01, 0.03, 0.1, 0.3, 0.6, 0.9} {
		for _, q := range []float64{0, 0.01, 0.03, 0.1, 0.3, 1, 3} {
			kappa := q / (nMax * nMax)
			c, v := g.uslProfile(sigma, kappa)
			if v < bestV {
				best, bestV = []float64{c, sigma, kappa}, v
			}
		}
	}
	return best
}

// uslProfile returns, for fixed σ and κ, the best ln λ and the squared error.
func (g logGroups) uslProfile(sigma, kappa float64) (c, sse float64) {
	sumK := 0.0
	for i, n := range g.n {
		c += g.k[i] * (g.m[i] - math.Log(n) + math.Log(uslDenominator(sigma, kappa, n)))
		sumK += g.k[i]
	}
	c /= sumK
	for i, n := range g.n {
		d := c + math.Log(n) - math.Log(uslDenominator(sigma, kappa, n)) - g.m[i]
		sse += g.k[i] * d * d
	}
	return c, sse
}
