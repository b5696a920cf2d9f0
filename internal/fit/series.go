package fit

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Point is one throughput measurement of a series.
type Point struct {
	// GPUs is the GPU count N the server used.
	GPUs int
	// Throughput is X(N) in any unit, the same for the whole series (e.g. output tokens/s).
	Throughput float64
	// Repeat names the repeat of the experiment. Points of one series at one GPU count are
	// repeats whatever their Repeat; it only labels them in residuals.
	Repeat int
}

// Series is the throughput of one configuration (parallelism strategy, prompt set, output
// length…) at several GPU counts.
type Series struct {
	Name   string
	Points []Point
}

// Sentinel errors, checked with errors.Is.
var (
	// ErrInvalidPoint: a point has GPUs < 1 or a throughput that is not a finite positive number.
	ErrInvalidPoint = errors.New("invalid point")
	// ErrTooFewGPUCounts: the series has fewer than two distinct GPU counts, so nothing scales.
	ErrTooFewGPUCounts = errors.New("too few GPU counts")
)

// level holds the repeats of one GPU count, in the order of the series' points.
type level struct {
	n    int       // GPU count
	x    []float64 // throughputs
	logX []float64 // natural logs of x
}

// mean is the arithmetic mean of the throughputs.
func (l level) mean() float64 { return meanOf(l.x) }

// sd is the sample standard deviation (n−1) of the throughputs, 0 with one repeat.
func (l level) sd() float64 {
	if len(l.x) < 2 {
		return 0
	}
	m, ss := l.mean(), 0.0
	for _, v := range l.x {
		ss += (v - m) * (v - m)
	}
	return math.Sqrt(ss / float64(len(l.x)-1))
}

// levels validates a series and groups its points by GPU count, smallest first. It needs two
// or more distinct GPU counts.
func levels(s Series) ([]level, error) {
	if len(s.Points) == 0 {
		return nil, fmt.Errorf("series %q has no points: %w", s.Name, ErrTooFewGPUCounts)
	}
	byN := map[int]*level{}
	for i, p := range s.Points {
		if err := checkPoint(p); err != nil {
			return nil, fmt.Errorf("series %q, point %d (gpus=%d, repeat=%d): %w", s.Name, i+1, p.GPUs, p.Repeat, err)
		}
		l := byN[p.GPUs]
		if l == nil {
			l = &level{n: p.GPUs}
			byN[p.GPUs] = l
		}
		l.x = append(l.x, p.Throughput)
		l.logX = append(l.logX, math.Log(p.Throughput))
	}
	if len(byN) < 2 {
		return nil, fmt.Errorf("series %q has one GPU count (%d); scaling fits need two or more: %w",
			s.Name, s.Points[0].GPUs, ErrTooFewGPUCounts)
	}
	out := make([]level, 0, len(byN))
	for _, l := range byN {
		out = append(out, *l)
	}
	slices.SortFunc(out, func(a, b level) int { return a.n - b.n })
	return out, nil
}

func checkPoint(p Point) error {
	switch {
	case p.GPUs < 1:
		return fmt.Errorf("%w: gpus %d must be 1 or more", ErrInvalidPoint, p.GPUs)
	case math.IsNaN(p.Throughput) || math.IsInf(p.Throughput, 0):
		return fmt.Errorf("%w: throughput %v is not a finite number", ErrInvalidPoint, p.Throughput)
	case p.Throughput <= 0:
		return fmt.Errorf("%w: throughput %v must be greater than zero (leave failed experiments out of the series)",
			ErrInvalidPoint, p.Throughput)
	}
	return nil
}

// allRepeated reports whether every GPU count has two or more repeats.
func allRepeated(lv []level) bool {
	for _, l := range lv {
		if len(l.x) < 2 {
			return false
		}
	}
	return true
}

func meanOf(v []float64) float64 {
	sum := 0.0
	for _, x := range v {
		sum += x
	}
	return sum / float64(len(v))
}
