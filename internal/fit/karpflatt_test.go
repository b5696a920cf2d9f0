package fit

import (
	"math"
	"strings"
	"testing"
)

// scalings builds Scaling rows from means (baseline first) with one SD and repeat count for
// all, as Speedups would.
func scalings(gpus []int, means []float64, sd float64, repeats int) []Scaling {
	out := make([]Scaling, len(gpus))
	for i, n := range gpus {
		ideal := float64(n) / float64(gpus[0])
		sp := means[i] / means[0]
		out[i] = Scaling{GPUs: n, Repeats: repeats, Mean: means[i], SD: sd, Ideal: ideal, Speedup: sp, Efficiency: sp / ideal}
	}
	return out
}

func curveMeans(curve func(float64) float64, gpus []int) []float64 {
	m := make([]float64, len(gpus))
	for i, n := range gpus {
		m[i] = curve(float64(n))
	}
	return m
}

func TestKarpFlattClassification(t *testing.T) {
	t.Parallel()
	g1248 := []int{1, 2, 4, 8}
	tests := []struct {
		name       string
		sc         []Scaling
		wantE      []float64 // nil: not checked
		wantTrend  Trend
		wantReason string
	}{
		{
			// Amdahl: e(N) = s at every N.
			name: "Amdahl s=0.1 is flat", sc: scalings(g1248, curveMeans(amdahlCurve(100, 0.1), g1248), 0, 1),
			wantE: []float64{0.1, 0.1, 0.1}, wantTrend: TrendFlat, wantReason: "within ±0.01",
		},
		{
			// From 2 GPUs, Amdahl gives e = s·N0/(1+s(N0−1)) = 0.2/1.1.
			name:  "Amdahl s=0.1 from 2 GPUs is flat",
			sc:    scalings([]int{2, 4, 8, 16}, curveMeans(amdahlCurve(100, 0.1), []int{2, 4, 8, 16}), 0, 1),
			wantE: []float64{0.2 / 1.1, 0.2 / 1.1, 0.2 / 1.1}, wantTrend: TrendFlat,
		},
		{
			// USL: e(N) = σ + κN = 0.09, 0.13, 0.21; slope on log2 N = (0.21 − 0.09)/2 = 0.06.
			name: "USL κ=0.02 rises", sc: scalings(g1248, curveMeans(uslCurve(100, 0.05, 0.02), g1248), 0, 1),
			wantE: []float64{0.09, 0.13, 0.21}, wantTrend: TrendRising, wantReason: "not tested against noise",
		},
		{
			// S = 1.9, 3.9, 7.9: e = 2/1.9 − 1 = 0.05263, (1/3.9 − 1/4)/(3/4) = 0.00855,
			// (1/7.9 − 1/8)/(7/8) = 0.00181.
			name: "improving scaling falls", sc: scalings(g1248, []float64{100, 190, 390, 790}, 0, 1),
			wantE: []float64{2/1.9 - 1, (1/3.9 - 0.25) / 0.75, (1/7.9 - 0.125) / 0.875}, wantTrend: TrendFalling,
		},
		{
			name: "rising with tight repeats", sc: scalings(g1248, curveMeans(uslCurve(100, 0.05, 0.02), g1248), 0.5, 5),
			wantTrend: TrendRising, wantReason: "standard errors from zero",
		},
		{
			name: "rising with identical repeats", sc: scalings(g1248, curveMeans(uslCurve(100, 0.05, 0.02), g1248), 0, 3),
			wantTrend: TrendRising, wantReason: "repeats agree exactly",
		},
		{
			name: "rising within noise is unknown", sc: scalings(g1248, curveMeans(uslCurve(100, 0.05, 0.02), g1248), 15, 3),
			wantTrend: TrendUnknown, wantReason: "too noisy to tell",
		},
		{
			name: "three GPU counts are too few", sc: scalings([]int{1, 2, 4}, []float64{100, 180, 300}, 0, 1),
			wantE: []float64{2/1.8 - 1, (1/3.0 - 0.25) / 0.75}, wantTrend: TrendUnknown,
			wantReason: "needs 3 or more GPU counts above the baseline (N0 = 1), this series has 2",
		},
		{name: "empty", sc: nil, wantTrend: TrendUnknown, wantReason: "two or more GPU counts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			kf := KarpFlatt(tt.sc)
			if kf.Trend != tt.wantTrend || !strings.Contains(kf.Reason, tt.wantReason) {
				t.Errorf("trend %s (%s), want %s with %q", kf.Trend, kf.Reason, tt.wantTrend, tt.wantReason)
			}
			if tt.wantE == nil {
				return
			}
			if len(kf.Points) != len(tt.wantE) {
				t.Fatalf("%d points, want %d", len(kf.Points), len(tt.wantE))
			}
			for i, p := range kf.Points {
				if math.Abs(p.E-tt.wantE[i]) > 1e-9 || p.GPUs != tt.sc[i+1].GPUs {
					t.Errorf("e(%d) = %v, want %v", p.GPUs, p.E, tt.wantE[i])
				}
			}
		})
	}
}

func TestKarpFlattStandardError(t *testing.T) {
	t.Parallel()
	// Baseline: mean 100, SD 10, 4 repeats → SE 5, cv0 = 0.05. N = 2: mean 160, SD 0 → S = 1.6,
	// e = 2/1.6 − 1 = 0.25, a = (1/1.6)/(1/2) = 1.25, SE(e) = 1.25·0.05 = 0.0625.
	sc := []Scaling{
		{GPUs: 1, Repeats: 4, Mean: 100, SD: 10, Ideal: 1, Speedup: 1, Efficiency: 1},
		{GPUs: 2, Repeats: 4, Mean: 160, SD: 0, Ideal: 2, Speedup: 1.6, Efficiency: 0.8},
	}
	kf := KarpFlatt(sc)
	if p := kf.Points[0]; math.Abs(p.E-0.25) > 1e-12 || math.Abs(p.SE-0.0625) > 1e-12 {
		t.Errorf("e, SE = %v, %v, want 0.25, 0.0625", p.E, p.SE)
	}
	sc[1].Repeats = 1
	if kf := KarpFlatt(sc); !math.IsNaN(kf.Points[0].SE) {
		t.Errorf("SE with one repeat = %v, want NaN", kf.Points[0].SE)
	}
}
