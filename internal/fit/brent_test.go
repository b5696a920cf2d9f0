package fit

import (
	"math"
	"testing"
)

func TestBrentMin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		f    func(float64) float64
		a, b float64
		want float64
	}{
		{"parabola", func(x float64) float64 { return (x - 0.3) * (x - 0.3) }, 0, 1, 0.3},
		{"kink", func(x float64) float64 { return math.Abs(x - 0.7) }, 0, 1, 0.7},
		{"quartic", func(x float64) float64 { return math.Pow(x-0.01, 4) + 1 }, 0, 0.1, 0.01},
		{"increasing: lower end", func(x float64) float64 { return x }, 0, 0.5, 0},
		{"decreasing: upper end", func(x float64) float64 { return -x }, 0.2, 0.4, 0.4},
		{"cosine", math.Cos, 2, 4, math.Pi},
	}
	for _, tt := range tests {
		calls := 0
		f := func(x float64) float64 { calls++; return tt.f(x) }
		got := brentMin(f, tt.a, tt.b, 1e-9)
		tol := 1e-7
		if tt.name == "quartic" {
			tol = 1e-3 // flat bottom: the error is x's error to the fourth power
		}
		if math.Abs(got-tt.want) > tol {
			t.Errorf("%s: brentMin = %v, want %v (%d calls)", tt.name, got, tt.want, calls)
		}
		if calls > 200 {
			t.Errorf("%s: %d calls", tt.name, calls)
		}
	}
}
