package figures

import (
	"strings"
	"testing"

	"github.com/llmscale/llmscale/internal/reportdata"
)

func TestSlugAndUnit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		got, want string
	}{
		{slug("TP-only · medium · 128 tok"), "tp-only-medium-128-tok"}, {slug("  ../x  "), "x"}, {slug("日本"), ""},
		{unitOf("Median latency (ms), log scale"), " (ms)"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestLog2Ticks(t *testing.T) {
	t.Parallel()
	labels := func(lo, hi float64) string {
		var l []string
		for _, tk := range (log2Ticks{}).Ticks(lo, hi) {
			if tk.Label != "" {
				l = append(l, tk.Label)
			}
		}
		return strings.Join(l, " ")
	}
	tests := []struct {
		lo, hi float64
		want   string
	}{
		{14, 290, "16 32 64 128 256"}, // the quickstart's users: 16 and 256 are labelled
		{1, 8, "1 2 4 8"},
		{1, 8192, "1 4 16 64 256 1,024 4,096"}, // 14 powers: every other one
		{3, 3.5, ""},                           // no power of two inside: LogTicks (no decade inside either)
		{0, 10, ""},
	}
	for _, tt := range tests {
		if got := labels(tt.lo, tt.hi); got != tt.want {
			t.Errorf("log2Ticks(%g, %g) labels %q, want %q", tt.lo, tt.hi, got, tt.want)
		}
	}
}

// TestWriteRefusesResolution: a resolution that is not positive is refused, nothing written.
func TestWriteRefusesResolution(t *testing.T) {
	t.Parallel()
	for _, dpi := range []int{0, -1} {
		if err := Write(t.TempDir(), reportdata.Data{}, dpi); err == nil || !strings.Contains(err.Error(), "dpi") {
			t.Errorf("Write at %d dpi: %v, want an error naming the resolution", dpi, err)
		}
	}
}
