package fit

import (
	"math"
	"testing"
)

func TestUSLExactData(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                string
		lambda, sigma, kapa float64
		gpus                []int
	}{
		{"retrograde 1..8", 900, 0.03, 0.01, []int{1, 2, 3, 4, 5, 6, 7, 8}},
		{"peak beyond data", 1000, 0.05, 0.002, []int{1, 2, 4, 8, 12, 16}},
		{"Amdahl-like kappa 0", 500, 0.1, 0, []int{1, 2, 4, 6, 8, 16}},
		{"linear", 100, 0, 0, []int{1, 2, 3, 4, 5, 6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u, err := USL(synthSeries(newRNG(1), tt.name, uslCurve(tt.lambda, tt.sigma, tt.kapa), 0, tt.gpus, 1))
			if err != nil || !u.Fitted {
				t.Fatalf("USL: %v %s", err, u.Reason)
			}
			if math.Abs(u.Sigma-tt.sigma) > 1e-6 || math.Abs(u.Kappa-tt.kapa) > 1e-7 || math.Abs(u.Lambda/tt.lambda-1) > 1e-6 {
				t.Errorf("λ, σ, κ = %v, %v, %v, want %v, %v, %v", u.Lambda, u.Sigma, u.Kappa, tt.lambda, tt.sigma, tt.kapa)
			}
			if tt.kapa == 0 {
				if u.Kappa != 0 || u.Peak != 0 {
					t.Errorf("κ = %v, peak %v; want exactly 0 and no peak", u.Kappa, u.Peak)
				}
				return
			}
			wantPeak := math.Sqrt((1 - tt.sigma) / tt.kapa)
			if math.Abs(u.Peak-wantPeak) > 1e-3 || u.PeakBeyondData != (wantPeak > float64(tt.gpus[len(tt.gpus)-1])) {
				t.Errorf("peak %v (beyond data %v), want %v", u.Peak, u.PeakBeyondData, wantPeak)
			}
		})
	}
}

// Noisy recovery: σ = 0.05, κ = 0.002 (peak at N* = 21.8) at 8 GPU counts up to 32, 3 repeats,
// 2% noise. Over 300 seeds: sd(σ̂) = 0.0028, sd(κ̂) = 0.0001, sd(N̂*) = 0.53; the tolerances are
// about 4.5 standard deviations.
func TestUSLRecoversParameters(t *testing.T) {
	t.Parallel()
	const sigma, kappa = 0.05, 0.002
	gpus := []int{1, 2, 4, 8, 12, 16, 24, 32}
	for seed := range uint64(10) {
		u, err := USL(synthSeries(newRNG(seed), "usl", uslCurve(1000, sigma, kappa), 0.02, gpus, 3))
		if err != nil || !u.Fitted {
			t.Fatalf("USL: %v %s", err, u.Reason)
		}
		if math.Abs(u.Sigma-sigma) > 0.0125 || math.Abs(u.Kappa-kappa) > 0.00045 || math.Abs(u.Lambda/1000-1) > 0.04 {
			t.Errorf("seed %d: λ, σ, κ = %.1f, %.4f, %.5f, want 1000, %v ± 0.0125, %v ± 0.00045", seed, u.Lambda, u.Sigma, u.Kappa, sigma, kappa)
		}
		if want := math.Sqrt((1 - sigma) / kappa); math.Abs(u.Peak-want) > 2.5 || u.PeakBeyondData {
			t.Errorf("seed %d: peak %.2f (beyond data %v), want %.2f ± 2.5 inside the data", seed, u.Peak, u.PeakBeyondData, want)
		}
		if u.PeakThroughput < u.Throughput(u.Peak-1) || u.PeakThroughput < u.Throughput(u.Peak+1) {
			t.Errorf("seed %d: X(N*) = %v is not a maximum", seed, u.PeakThroughput)
		}
		if u.Goodness.R2 < 0.95 || len(u.Goodness.Residuals) != 24 {
			t.Errorf("seed %d: R² %.3f with %d residuals, want ≥ 0.95 and 24", seed, u.Goodness.R2, len(u.Goodness.Residuals))
		}
	}
}

// The Levenberg–Marquardt solution is at least as good as the best point of a fine grid.
func TestUSLBeatsGrid(t *testing.T) {
	t.Parallel()
	for seed := range uint64(5) {
		ser := synthSeries(newRNG(seed), "g", uslCurve(1000, 0.1, 0.01), 0.05, []int{1, 2, 3, 4, 5, 6, 7, 8}, 2)
		lv, _ := levels(ser)
		g := groupLogs(lv)
		_, sse := g.uslProblem().solve(g.uslStart())
		for i := 0; i <= 200; i++ {
			for j := 0; j <= 200; j++ {
				if _, v := g.uslProfile(float64(i)/200, float64(j)*0.0002); v < sse-1e-12 {
					t.Fatalf("seed %d: grid σ=%v κ=%v has error %v below the fit's %v", seed, float64(i)/200, float64(j)*0.0002, v, sse)
				}
			}
		}
	}
}

func TestUSLTooFewGPUCounts(t *testing.T) {
	t.Parallel()
	u, err := USL(synthSeries(newRNG(1), "short", uslCurve(100, 0.1, 0.01), 0.01, []int{1, 2, 4, 8}, 3))
	if err != nil {
		t.Fatal(err)
	}
	if want := "USL needs 6 or more GPU counts, this series has 4"; u.Fitted || u.Reason != want {
		t.Errorf("Fitted %v, Reason %q; want false and %q", u.Fitted, u.Reason, want)
	}
}
