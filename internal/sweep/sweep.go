// Package sweep plans a GuideLLM-style sweep of load levels and finds its knee: measure the
// server synchronously (one request at a time), then at its maximum throughput (many requests
// in flight), then at open-loop rates spaced evenly between the two. The knee is the highest
// rate the server still kept up with. Pure: no clocks, no I/O.
package sweep

import (
	"errors"
	"fmt"
)

// Rates spaces n open-loop rates evenly strictly between the synchronous rate and the maximum
// throughput (both in requests/s), lowest first.
func Rates(sync, max float64, n int) ([]float64, error) {
	if !(sync > 0) || !(max > 0) {
		return nil, fmt.Errorf("sweep: synchronous rate %g and maximum %g req/s must both be positive", sync, max)
	}
	if max <= sync {
		return nil, fmt.Errorf("sweep: the maximum throughput (%.3g req/s) is not above the synchronous rate (%.3g req/s): "+
			"the server does not gain from concurrency, so there is nothing to sweep between", max, sync)
	}
	if n < 1 {
		return nil, errors.New("sweep: want at least one rate between")
	}
	out := make([]float64, n)
	for i := range out {
		out[i] = sync + (max-sync)*float64(i+1)/float64(n+1)
	}
	return out, nil
}

// Stages of a sweep, in the order they run.
const (
	StageSync       = "sync"       // one request at a time
	StageThroughput = "throughput" // many requests in flight: the maximum throughput
	StageRate       = "rate"       // open loop, at a rate between the two
)

// Point is one measured level of a sweep.
type Point struct {
	Name      string  `json:"name"`      // sync, throughput, rate
	Requested float64 `json:"requested"` // the open-loop rate asked for, req/s; 0 for the closed-loop points
	Offered   float64 `json:"offered"`   // requests due in the measured window / window (rate points); 0 otherwise
	Achieved  float64 `json:"achieved"`  // completed requests/s in the window
}

// KeepUp is the share of the offered rate a point must complete to count as kept up with.
const KeepUp = 0.95

// Knee returns the index of the highest rate point that completed at least KeepUp of its
// offered rate, with the reason in words. Without any such rate point (the server fell behind
// every rate), the synchronous point (index 0) is the knee. When every rate was kept up with,
// the knee is the highest rate point and the reason says saturation lies between it and the
// throughput point.
func Knee(points []Point) (int, string) {
	knee, kept, rates := 0, 0, 0
	for i, p := range points {
		if p.Offered <= 0 {
			continue
		}
		rates++
		if p.Achieved >= KeepUp*p.Offered {
			knee, kept = i, kept+1
		}
	}
	switch {
	case rates == 0:
		return 0, "no open-loop rate was measured"
	case kept == 0:
		return 0, fmt.Sprintf("the server fell behind every rate (below %.0f%% of it completed): saturated from the synchronous level up", KeepUp*100)
	case kept == rates:
		return knee, fmt.Sprintf("every rate was kept up with: saturation lies between %.3g req/s and the throughput point", points[knee].Offered)
	}
	return knee, fmt.Sprintf("highest rate completed at ≥ %.0f%%: %.3g of %.3g req/s; above it the server fell behind",
		KeepUp*100, points[knee].Achieved, points[knee].Offered)
}
