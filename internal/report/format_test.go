package report

import (
	"strings"
	"testing"

	"github.com/llmscale/llmscale/internal/diagnose"
	"github.com/llmscale/llmscale/internal/reportdata"
)

func TestAnswerSentences(t *testing.T) {
	t.Parallel()
	s := reportdata.Series{
		Name: "x", KarpFlattTrend: "unknown", KarpFlattReason: "too few GPU counts.",
		Points: []reportdata.SeriesPoint{{GPUs: 2, Throughput: 100, Speedup: 1, Efficiency: 1, Saturated: true}, {GPUs: 8, Throughput: 300, Speedup: 3, Efficiency: 0.75}},
		Amdahl: &reportdata.AmdahlFit{S: 0, SLo: reportdata.Opt(0), SHi: reportdata.Opt(0.02)},
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
