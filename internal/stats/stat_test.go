package stats

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/llmscale/llmscale/internal/results"
)

// TestPercentile checks against numpy.percentile (linear interpolation), as vLLM computes.
func TestPercentile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v    []float64
		p    float64
		want float64 // numpy.percentile(v, p)
	}{
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 50, 5.5},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 90, 9.1},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 99, 9.91},
		{[]float64{15, 20, 35, 40, 50}, 40, 29},
		{[]float64{15, 20, 35, 40, 50}, 100, 50},
		{[]float64{15, 20, 35, 40, 50}, 0, 15},
		{[]float64{3}, 99, 3},
	}
	for _, tt := range tests {
		if got := Percentile(tt.v, tt.p); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("Percentile(%v, %v) = %v, want %v", tt.v, tt.p, got, tt.want)
		}
	}
	if !math.IsNaN(Percentile(nil, 50)) {
		t.Error("Percentile of nothing is not NaN")
	}
	s := NewStat([]float64{4, 1, 3, 2})
	if s.N != 4 || s.Mean != 2.5 || s.Median != 2.5 || math.Abs(s.Std-math.Sqrt(1.25)) > 1e-12 || s.Max != 4 {
		t.Errorf("NewStat = %+v", s)
	}
}

func TestLagTrend(t *testing.T) {
	t.Parallel()
	var pts []lagPoint
	for i := range 100 {
		pts = append(pts, lagPoint{due: int64(100 - i), lag: int64(100-i) * int64(time.Millisecond)})
	}
	if tr := lagTrend(pts); tr[0] != 6*time.Millisecond || tr[1] != 96*time.Millisecond {
		t.Fatalf("trend %v, want 6ms then 96ms", tr)
	}
}

// TestFirstErrorsByShape: errors that differ only in ids or numbers are reported once.
func TestFirstErrorsByShape(t *testing.T) {
	t.Parallel()
	var a Accumulator
	for _, msg := range []string{`not JSON: {"id":"cmpl-5d3a9f0c7b2e"`, `not JSON: {"id":"cmpl-77aa01bb9c3d"`, "HTTP 500: boom", "HTTP 503: boom"} {
		a.Add(&results.Request{ErrorKind: results.ErrorHTTP, Error: msg, Phase: results.PhaseMeasure})
	}
	k := results.ErrorHTTP + ": "
	want := []string{k + `not JSON: {"id":"cmpl-5d3a9f0c7b2e"`, k + "HTTP 500: boom", k + "HTTP 503: boom"}
	if !slices.Equal(a.firstErrors, want) {
		t.Errorf("first errors %q, want %q", a.firstErrors, want)
	}
}
