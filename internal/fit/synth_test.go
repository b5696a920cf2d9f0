package fit

import (
	"math/rand/v2"
)

// newRNG is the tests' seeded random source.
func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

// synthSeries makes a series from a throughput curve with multiplicative noise: each point is
// curve(N)·(1 + noise·z), z standard normal, repeats points per GPU count.
func synthSeries(rng *rand.Rand, name string, curve func(n float64) float64, noise float64, gpus []int, repeats int) Series {
	s := Series{Name: name}
	for _, n := range gpus {
		for r := 1; r <= repeats; r++ {
			x := curve(float64(n)) * (1 + noise*rng.NormFloat64())
			s.Points = append(s.Points, Point{GPUs: n, Throughput: x, Repeat: r})
		}
	}
	return s
}

func amdahlCurve(x1, s float64) func(float64) float64 {
	return func(n float64) float64 { return AmdahlThroughput(x1, s, n) }
}

func uslCurve(lambda, sigma, kappa float64) func(float64) float64 {
	return func(n float64) float64 { return USLThroughput(lambda, sigma, kappa, n) }
}
