// Package stats holds the statistics every stage shares: latency summaries with the
// percentiles of MISSION.md (numpy's linear interpolation, vLLM's benchmark), and the
// accumulation of request records into the figures of a measured window. It reads nothing
// but values and a run's own temporary files, so loadgen, aggregate and report can all use
// it without pulling in one another.
package stats

import "math"

// Stat summarises one latency in milliseconds, as vLLM's benchmark does: mean, standard
// deviation (population), median and percentiles by linear interpolation (numpy's default).
type Stat struct {
	N                                     int
	Mean, Std, Median, P90, P95, P99, Max float64
}

// NewStat summarises values (milliseconds); it sorts them in place.
func NewStat(v []float64) Stat {
	if len(v) == 0 {
		return Stat{}
	}
	SortFloats(v)
	mean := Mean(v)
	var ss float64
	for _, x := range v {
		ss += (x - mean) * (x - mean)
	}
	return Stat{N: len(v), Mean: mean, Std: math.Sqrt(ss / float64(len(v))), Median: Percentile(v, 50),
		P90: Percentile(v, 90), P95: Percentile(v, 95), P99: Percentile(v, 99), Max: v[len(v)-1]}
}

// Percentile is numpy.percentile(v, p) with linear interpolation; v must be sorted.
func Percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	rank := p / 100 * float64(len(sorted)-1)
	lo := int(math.Floor(rank))
	if lo >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	frac := rank - float64(lo)
	return sorted[lo] + frac*(sorted[lo+1]-sorted[lo])
}

// Mean is the arithmetic mean of v, summed in order; NaN for no values.
func Mean(v []float64) float64 {
	var sum float64
	for _, x := range v {
		sum += x
	}
	return sum / float64(len(v))
}

// MaxOpt is the larger of two nullable values, nil only when both are: the busiest of several
// workers' (or samples') figures where some may be missing.
func MaxOpt(a, b *float64) *float64 {
	switch {
	case a == nil:
		return b
	case b == nil || *a >= *b:
		return a
	}
	return b
}
