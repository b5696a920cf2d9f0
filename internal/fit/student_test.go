package fit

import (
	"math"
	"testing"
)

func TestStudentQuantile(t *testing.T) {
	t.Parallel()
	// Two-sided 95% and 90% critical values from standard t tables.
	tests := []struct {
		conf float64
		df   int
		want float64
	}{
		{0.95, 1, 12.706}, {0.95, 2, 4.303}, {0.95, 3, 3.182}, {0.95, 4, 2.776}, {0.95, 5, 2.571},
		{0.95, 8, 2.306}, {0.95, 10, 2.228}, {0.95, 30, 2.042}, {0.95, 120, 1.980}, {0.90, 6, 1.943},
		{0.95, 1 << 20, 1.960},
	}
	for _, tt := range tests {
		if got := studentQuantile2(tt.conf, tt.df); math.Abs(got-tt.want) > 0.0015 {
			t.Errorf("studentQuantile2(%v, %d) = %.4f, want %.3f", tt.conf, tt.df, got, tt.want)
		}
	}
	if got := normalQuantile2(0.95); math.Abs(got-1.959964) > 1e-6 {
		t.Errorf("normalQuantile2(0.95) = %v, want 1.959964", got)
	}
}
