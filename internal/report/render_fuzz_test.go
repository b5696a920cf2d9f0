package report

import (
	"io"
	"math"
	"testing"

	"github.com/llmscale/llmscale/internal/report/figures"
	"github.com/llmscale/llmscale/internal/reportdata"
)

// FuzzRender feeds the report odd texts and numbers (NaN, ±Inf, negative, huge) in every kind
// of field: rendering the HTML and drawing the figures must never fail or panic.
func FuzzRender(f *testing.F) {
	f.Add("TP-only", 1000.0, 0.1, 8)
	f.Add(hostile, math.NaN(), math.Inf(1), 0)
	f.Add("", -1.0, -0.5, -3)
	f.Add("\u2028</script>", 1e308, 5e-324, 1<<20)
	f.Fuzz(func(t *testing.T, text string, a, b float64, n int) {
		d := fuzzData(text, a, b, n)
		if err := Render(io.Discard, d, Options{}); err != nil {
			t.Fatalf("Render: %v", err)
		}
		if err := figures.Write(t.TempDir(), d, 10); err != nil { // SVG and a small PNG of each
			t.Fatalf("figures: %v", err)
		}
	})
}

func fuzzData(text string, a, b float64, n int) reportdata.Data {
	n = n % 64
	pts := []reportdata.SeriesPoint{
		{GPUs: 1, Throughput: a, Speedup: 1, Efficiency: b, Saturated: true, ExpIDs: []string{text}},
		{GPUs: n, Throughput: b, Speedup: a, Efficiency: a, KarpFlatt: &b, SD: &a},
	}
	tl := &reportdata.Timeline{OffsetS: reportdata.Values{0, a, b}, Running: reportdata.Values{a, b}, Waiting: reportdata.Values{b}, KVUsage: reportdata.Values{a, a, a},
		RequestRate: reportdata.Values{1, 2, 3}, MeasureFrom: &a, MeasureTo: &b}
	sum := &reportdata.Summary{OutputThroughput: a, OutputThroughputPerGPU: b, TokensPerUser: a, TTFT: reportdata.Latency{P50: b}, Goodput: &a}
	return reportdata.Data{
		Campaign: reportdata.Campaign{Name: text, Model: text, GPUs: []string{text}, MatrixYAML: text, Versions: []reportdata.NameValue{{Name: text, Value: text}}},
		Series: []reportdata.Series{{
			Name: text, Points: pts, Baseline: n, KarpFlattTrend: text, KarpFlattReason: text,
			Amdahl:  &reportdata.AmdahlFit{S: a, SLo: &b, X1: b, Curve: []reportdata.XY{{X: a, Y: b}, {X: b, Y: a}}},
			USL:     reportdata.USLFit{Fitted: true, Peak: a, Sigma: b, Curve: []reportdata.XY{{X: 1, Y: a}}},
			Verdict: reportdata.Verdict{Code: text, Label: text, Sentence: text, Evidence: []reportdata.Evidence{{Name: text, Value: text}}},
		}},
		Experiments: []reportdata.Experiment{
			{ID: text, Status: reportdata.StatusDone, Factors: reportdata.Factors{GPUs: n, DP: n, BatchSize: n, Mode: text, Rate: a}, Summary: sum,
				TTFT: reportdata.CDF{P: reportdata.Values{a, b}, Ms: reportdata.Values{b}}, Timeline: tl, Diagnosis: &reportdata.Verdict{Code: text, Label: text}},
			{ID: text + "2", Status: text, Reason: text},
		},
		LoadCurves: []reportdata.LoadCurve{{Config: text, LoadKind: text, Saturation: &b, Points: []reportdata.LoadPoint{{Load: a, Throughput: b}, {Load: b, TTFTP50: a}}}},
		Pareto:     []reportdata.ParetoPoint{{ExpID: text, PerGPU: a, PerUser: b, GPUs: n}, {PerGPU: b, PerUser: a}},
	}
}
