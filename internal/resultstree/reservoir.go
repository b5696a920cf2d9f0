package resultstree

import (
	"math/rand/v2"
)

// maxLatencySamples bounds the latencies kept per distribution and experiment: beyond it a
// uniform reservoir sample stands for all (the CDF keeps at most MaxCDFPoints quantiles, which
// a sample of this size estimates to within a fraction of a percent).
const maxLatencySamples = 100_000

// reservoir keeps a uniform sample of at most limit values of a stream (Vitter's algorithm
// R), with a fixed seed so the same files give the same report.
type reservoir struct {
	limit int
	seen  int64
	vals  []float64
	rng   *rand.Rand
}

func newReservoir(limit int, seed uint64) *reservoir {
	return &reservoir{limit: limit, rng: rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))}
}

func (r *reservoir) add(v float64) {
	r.seen++
	if len(r.vals) < r.limit {
		r.vals = append(r.vals, v)
		return
	}
	if j := r.rng.Int64N(r.seen); j < int64(r.limit) {
		r.vals[j] = v
	}
}
