package report

import (
	"slices"
	"strings"
	"testing"

	"github.com/llmscale/llmscale/internal/diagnose"
	"github.com/llmscale/llmscale/internal/reportdata"
)

func TestParetoFrontier(t *testing.T) {
	t.Parallel()
	pts := []reportdata.ParetoPoint{
		{ExpID: "a", PerUser: 10, PerGPU: 100},
		{ExpID: "b", PerUser: 20, PerGPU: 80},
		{ExpID: "c", PerUser: 15, PerGPU: 70}, // beaten by b
		{ExpID: "d", PerUser: 30, PerGPU: 20},
		{ExpID: "e", PerUser: 10, PerGPU: 90}, // beaten by a
	}
	var got []string
	for _, i := range paretoFrontier(pts) {
		got = append(got, pts[i].ExpID)
	}
	if want := []string{"a", "b", "d"}; !slices.Equal(got, want) {
		t.Errorf("frontier = %v, want %v", got, want)
	}
}

func TestFigureNames(t *testing.T) {
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

func TestAnswerSentences(t *testing.T) {
	t.Parallel()
	s := reportdata.Series{
		Name: "x", KarpFlattTrend: "unknown", KarpFlattReason: "too few GPU counts.",
		Points: []reportdata.SeriesPoint{{GPUs: 2, Throughput: 100, Speedup: 1, Efficiency: 1, Saturated: true}, {GPUs: 8, Throughput: 300, Speedup: 3, Efficiency: 0.75}},
		Amdahl: &reportdata.AmdahlFit{S: 0, SLo: ptr(0), SHi: ptr(0.02)},
	}
	a := seriesAnswer(0, s)
	text := strings.Join(a.Lines, " ")
	for _, want := range []string{"From 2 GPUs to 8", "3.0× (ideal 4.0×)", "75 % efficiency", "s = 0 (95 % interval 0.000–0.020)", "linearly", "Karp–Flatt trend unknown: too few GPU counts."} {
		if !strings.Contains(text, want) {
			t.Errorf("answer %q lacks %q", text, want)
		}
	}
	if len(a.Warnings) != 1 || !strings.Contains(a.Warnings[0], "8 GPUs") {
		t.Errorf("warnings = %q, want the unsaturated 8-GPU point named", a.Warnings)
	}
	if h := headline([]reportdata.Series{s}); !strings.HasPrefix(h, "x reaches 3.0× on 8 GPUs") {
		t.Errorf("headline = %q", h)
	}
}

// TestVerdictClass pins the badge colour of every verdict code package diagnose gives.
func TestVerdictClass(t *testing.T) {
	t.Parallel()
	want := map[string]string{
		diagnose.CodeNotSaturated: "warn", diagnose.CodeLoadGenerator: "warn",
		diagnose.CodeBatchCap: "bad", diagnose.CodeKVCache: "bad", diagnose.CodePrefillBudget: "bad",
		diagnose.CodeAPIServer: "bad", diagnose.CodeTPComm: "bad", diagnose.CodeFailed: "bad",
		diagnose.CodeGPUBound: "good", diagnose.CodeNearLinear: "good",
		diagnose.CodeUnknown: "none", "": "none", "some_new_limit": "bad",
	}
	for code, class := range want {
		if got := verdictClass(code); got != class {
			t.Errorf("verdictClass(%q) = %q, want %q", code, got, class)
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
