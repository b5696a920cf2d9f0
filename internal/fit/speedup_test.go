package fit

import (
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestSpeedupsHandComputed(t *testing.T) {
	t.Parallel()
	approx := cmpopts.EquateApprox(0, 1e-9)
	tests := []struct {
		name     string
		series   Series
		want     []Scaling
		wantNorm string
	}{
		{
			name: "baseline 1 GPU with repeats",
			series: Series{Name: "tp", Points: []Point{
				{GPUs: 2, Throughput: 190, Repeat: 1}, {GPUs: 1, Throughput: 100, Repeat: 1},
				{GPUs: 4, Throughput: 350, Repeat: 1}, {GPUs: 1, Throughput: 110, Repeat: 2},
				{GPUs: 2, Throughput: 200, Repeat: 2},
			}},
			// X̄(1) = 105, X̄(2) = 195, X̄(4) = 350; SD(1) = SD(2) = sqrt(50) = 7.0711.
			want: []Scaling{
				{GPUs: 1, Repeats: 2, Mean: 105, SD: math.Sqrt(50), Ideal: 1, Speedup: 1, Efficiency: 1},
				{GPUs: 2, Repeats: 2, Mean: 195, SD: math.Sqrt(50), Ideal: 2, Speedup: 195.0 / 105, Efficiency: 195.0 / 210},
				{GPUs: 4, Repeats: 1, Mean: 350, SD: 0, Ideal: 4, Speedup: 350.0 / 105, Efficiency: 350.0 / 420},
			},
			wantNorm: "S(N) = X(N)/X(1)",
		},
		{
			name: "baseline 2 GPUs counts N in units of 2",
			series: Series{Name: "dp", Points: []Point{
				{GPUs: 2, Throughput: 200}, {GPUs: 4, Throughput: 360}, {GPUs: 8, Throughput: 600},
			}},
			want: []Scaling{
				{GPUs: 2, Repeats: 1, Mean: 200, Ideal: 1, Speedup: 1, Efficiency: 1},
				{GPUs: 4, Repeats: 1, Mean: 360, Ideal: 2, Speedup: 1.8, Efficiency: 0.9},
				{GPUs: 8, Repeats: 1, Mean: 600, Ideal: 4, Speedup: 3, Efficiency: 0.75},
			},
			wantNorm: "starts at 2 GPUs",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, norm, err := Speedups(tt.series)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, approx); diff != "" {
				t.Errorf("Speedups (-want +got):\n%s", diff)
			}
			if !strings.Contains(norm, tt.wantNorm) {
				t.Errorf("normalisation %q, want it to contain %q", norm, tt.wantNorm)
			}
		})
	}
}

func TestGoodnessHandComputed(t *testing.T) {
	t.Parallel()
	pts := []Point{{GPUs: 1, Throughput: 100, Repeat: 1}, {GPUs: 2, Throughput: 210, Repeat: 1}, {GPUs: 4, Throughput: 390, Repeat: 2}}
	g := goodness(pts, func(n float64) float64 { return 100 * n })
	// Residuals 0, 10, −10; mean 233.33; SS_tot = 133.33² + 23.33² + 156.67² = 42866.67.
	wantR2, wantRMSE := 1-200/42866.666666666667, math.Sqrt(200.0/3)
	wantRel := math.Sqrt((math.Pow(math.Log(1.05), 2) + math.Pow(math.Log(0.975), 2)) / 3)
	if math.Abs(g.R2-wantR2) > 1e-12 || math.Abs(g.RMSE-wantRMSE) > 1e-12 || math.Abs(g.RelRMSE-wantRel) > 1e-12 {
		t.Errorf("R2, RMSE, RelRMSE = %v, %v, %v, want %v, %v, %v", g.R2, g.RMSE, g.RelRMSE, wantR2, wantRMSE, wantRel)
	}
	want := []Residual{
		{GPUs: 1, Repeat: 1, Observed: 100, Fitted: 100, Residual: 0},
		{GPUs: 2, Repeat: 1, Observed: 210, Fitted: 200, Residual: 10},
		{GPUs: 4, Repeat: 2, Observed: 390, Fitted: 400, Residual: -10},
	}
	if diff := cmp.Diff(want, g.Residuals); diff != "" {
		t.Errorf("residuals (-want +got):\n%s", diff)
	}
	flat := goodness([]Point{{GPUs: 1, Throughput: 5}, {GPUs: 2, Throughput: 5}}, func(float64) float64 { return 5 })
	if !math.IsNaN(flat.R2) || flat.RMSE != 0 {
		t.Errorf("equal points: R2 %v RMSE %v, want NaN and 0", flat.R2, flat.RMSE)
	}
}
