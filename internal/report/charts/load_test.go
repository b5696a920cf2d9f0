package charts

import (
	"math"
	"testing"
)

// TestCDFAxis: a distribution with gaps of exactly 0 ms is drawn on a linear axis (a log one
// made them -Infinity), and every axis's range comes from the data.
func TestCDFAxis(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name     string
		vals     []float64
		log      int
		min, max float64
	}{
		{"zeros and a long tail", []float64{0, 0, 3, 9, 92}, 0, 0, 92},
		{"positive, wide", []float64{2, 5, 90, 400}, 10, 2, 400},
		{"positive, narrow", []float64{8, 9, 12}, 0, 0, 12},
		{"NaN and Inf ignored", []float64{math.NaN(), 1, math.Inf(1), 50}, 10, 1, 50},
	} {
		a := cdfAxis(c.vals)
		if a.Log != c.log || a.Min == nil || *a.Min != c.min || a.Max == nil || *a.Max != c.max {
			t.Errorf("%s: log %d, min %v, max %v; want log %d, [%v, %v]", c.name, a.Log, deref(a.Min), deref(a.Max), c.log, c.min, c.max)
		}
	}
	if a := cdfAxis(nil); a.Log != 0 || a.Max != nil {
		t.Errorf("no values: %+v", a)
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
