package promscrape

import (
	"math"
	"slices"
)

// GridSample is one value of one gauge series (an engine of a replica) at a wall-clock time.
type GridSample struct {
	Series string // identifies the series: samples of one series are never added together
	TimeNs int64
	Value  float64
}

// GridPoint is the gauge combined over its series at one instant of a shared grid.
type GridPoint struct {
	K      int   // the grid index: TimeNs = origin + K·step
	TimeNs int64 // the grid instant
	Value  float64
	Series int // series that contributed
}

// OnGrid puts the samples of several series — the engines of every replica, each scraped on
// its own grid — on one grid and combines them per instant with across. It is the one place
// where replicas are summed: the summary (Window.Gauge) and the report's timeline both use it.
//
// The grid starts at the earliest sample and its step is step, or when step ≤ 0 the median
// gap between consecutive samples of a series. Each sample goes to the nearest instant. The
// replicas' grids differ by milliseconds (or more, when their scrapes were not started at
// once), so a series with no sample at an instant contributes its value of the instant before,
// carried one step at most: a series that stopped (a dead replica) drops out instead of
// being held forever. Instants where no series has a sample of its own are left out. NaN
// values are skipped.
func OnGrid(samples []GridSample, step int64, across Across) []GridPoint {
	bySeries, origin := map[string]map[int]float64{}, int64(math.MaxInt64)
	var clean []GridSample
	for _, s := range samples {
		if !math.IsNaN(s.Value) {
			clean = append(clean, s)
			origin = min(origin, s.TimeNs)
		}
	}
	if len(clean) == 0 {
		return nil
	}
	if step <= 0 {
		step = medianStep(clean)
	}
	last := 0
	slices.SortStableFunc(clean, func(a, b GridSample) int { return compareInt64(a.TimeNs, b.TimeNs) })
	for _, s := range clean {
		k := int(math.Round(float64(s.TimeNs-origin) / float64(step)))
		if bySeries[s.Series] == nil {
			bySeries[s.Series] = map[int]float64{}
		}
		bySeries[s.Series][k] = s.Value // the later sample of two in one bin wins
		last = max(last, k)
	}
	return combine(bySeries, origin, step, last, across)
}

func combine(bySeries map[string]map[int]float64, origin, step int64, last int, across Across) []GridPoint {
	var out []GridPoint
	for k := 0; k <= last; k++ {
		sum, n, own := 0.0, 0, false
		for _, vals := range bySeries {
			if v, ok := vals[k]; ok {
				sum, n, own = sum+v, n+1, true
			} else if v, ok := vals[k-1]; ok {
				sum, n = sum+v, n+1
			}
		}
		if !own {
			continue
		}
		if across == MeanAcross {
			sum /= float64(n)
		}
		out = append(out, GridPoint{K: k, TimeNs: origin + int64(k)*step, Value: sum, Series: n})
	}
	return out
}

// medianStep is the median gap between consecutive samples of one series; 1 s without any.
func medianStep(samples []GridSample) int64 {
	times := map[string][]int64{}
	for _, s := range samples {
		times[s.Series] = append(times[s.Series], s.TimeNs)
	}
	var gaps []int64
	for _, ts := range times {
		slices.Sort(ts)
		for i := 1; i < len(ts); i++ {
			if g := ts[i] - ts[i-1]; g > 0 {
				gaps = append(gaps, g)
			}
		}
	}
	if len(gaps) == 0 {
		return int64(DefaultInterval)
	}
	slices.Sort(gaps)
	return gaps[len(gaps)/2]
}

func compareInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
