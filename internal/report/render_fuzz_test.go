package report

import (
	"io"
	"math"
	"testing"
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
		for _, fig := range figures(d) {
			if err := fig.write(io.Discard, "svg", pngDPI); err != nil {
				t.Fatalf("figure %s: %v", fig.name, err)
			}
		}
	})
}

func fuzzData(text string, a, b float64, n int) Data {
	n = n % 64
	pts := []SeriesPoint{
		{GPUs: 1, Throughput: a, Speedup: 1, Efficiency: b, Saturated: true, ExpIDs: []string{text}},
		{GPUs: n, Throughput: b, Speedup: a, Efficiency: a, KarpFlatt: &b, SD: &a},
	}
	tl := &Timeline{OffsetS: Values{0, a, b}, Running: Values{a, b}, Waiting: Values{b}, KVUsage: Values{a, a, a},
		RequestRate: Values{1, 2, 3}, MeasureFrom: &a, MeasureTo: &b}
	sum := &Summary{OutputThroughput: a, OutputThroughputPerGPU: b, TokensPerUser: a, TTFT: Latency{P50: b}, Goodput: &a}
	return Data{
		Campaign: Campaign{Name: text, Model: text, GPUs: []string{text}, MatrixYAML: text, Versions: []NameValue{{text, text}}},
		Series: []Series{{
			Name: text, Points: pts, Baseline: n, KarpFlattTrend: text, KarpFlattReason: text,
			Amdahl:  &AmdahlFit{S: a, SLo: &b, X1: b, Curve: []XY{{a, b}, {b, a}}},
			USL:     USLFit{Fitted: true, Peak: a, Sigma: b, Curve: []XY{{1, a}}},
			Verdict: Verdict{Code: text, Label: text, Sentence: text, Evidence: []Evidence{{Name: text, Value: text}}},
		}},
		Experiments: []Experiment{
			{ID: text, Status: StatusDone, Factors: Factors{GPUs: n, DP: n, BatchSize: n, Mode: text, Rate: a}, Summary: sum,
				TTFT: CDF{P: Values{a, b}, Ms: Values{b}}, Timeline: tl, Diagnosis: &Verdict{Code: text, Label: text}},
			{ID: text + "2", Status: text, Reason: text},
		},
		LoadCurves: []LoadCurve{{Config: text, LoadKind: text, Saturation: &b, Points: []LoadPoint{{Load: a, Throughput: b}, {Load: b, TTFTP50: a}}}},
		Pareto:     []ParetoPoint{{ExpID: text, PerGPU: a, PerUser: b, GPUs: n}, {PerGPU: b, PerUser: a}},
	}
}
