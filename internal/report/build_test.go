package report

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/llmscale/llmscale/internal/diagnose"
	goldenfile "github.com/llmscale/llmscale/internal/golden"
	"github.com/llmscale/llmscale/internal/report/charts"
	"github.com/llmscale/llmscale/internal/report/figures"
	"github.com/llmscale/llmscale/internal/reportdata"
	"github.com/llmscale/llmscale/internal/results"
)

// treeGolden is what the golden file of the fixed tree holds: the campaign, the answer, every
// chart's series and each experiment's status and verdict.
type treeGolden struct {
	Campaign    reportdata.Campaign      `json:"campaign"`
	Headline    string                   `json:"headline"`
	Answers     []answer                 `json:"answers"`
	Experiments []expDigest              `json:"experiments"`
	Charts      charts.Model             `json:"charts"`
	Pareto      []reportdata.ParetoPoint `json:"pareto"`
}

type expDigest struct {
	ID, Config, Status, Reason, Verdict string
	CDFPoints                           [3]int
	Timeline                            bool
}

// TestTreeGolden builds the report's data from testdata/report/tree (a real simulator
// campaign, kept) and compares what the report draws with the golden file:
//
//	go test ./internal/report -run TestTreeGolden -update            # after a deliberate change
//	go test ./internal/report -run TestTreeGolden -regenerate-tree -update   # a new tree
func TestTreeGolden(t *testing.T) {
	if *regenerateTree {
		makeTree(t)
	}
	d, log := buildFrom(t, treeDir)
	if log != "" {
		t.Errorf("problems reading the tree:\n%s", log)
	}
	g := treeGolden{Campaign: d.Campaign, Headline: headline(d.Series), Answers: answers(d.Series),
		Charts: charts.Build(d), Pareto: d.Pareto}
	g.Campaign.MatrixYAML = "" // in the tree's campaign.json; not worth repeating
	for _, e := range d.Experiments {
		x := expDigest{ID: e.ID, Config: e.Config, Status: e.Status, Reason: e.Reason, Timeline: e.Timeline != nil,
			CDFPoints: [3]int{len(e.TTFT.P), len(e.ITL.P), len(e.E2E.P)}}
		if e.Diagnosis != nil {
			x.Verdict = e.Diagnosis.Code
		}
		g.Experiments = append(g.Experiments, x)
	}
	got, err := json.MarshalIndent(g, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(compactNumbers(got), '\n')
	goldenfile.Check(t, filepath.Join(testdataDir, "tree.golden.json"), got, *update)

}

// TestTreeShape checks what the fixed tree must give: both series with their points'
// experiments and verdicts, CDFs and timelines for every measured experiment, no GPU
// telemetry anywhere (and the report says so), and the failed experiment with its reason —
// and the whole report renders and writes its figures.
func TestTreeShape(t *testing.T) {
	t.Parallel()
	d, _ := buildFrom(t, treeDir)
	c := d.Campaign
	if c.Name != "tree" || c.Model != "tree-model" || c.Engine != "sim" || c.Done != 6 || c.Failed != 1 || c.Planned != 7 ||
		c.Interconnect != "pcie (simulated)" || len(c.GPUs) != 2 || c.Start.IsZero() || !c.End.After(c.Start) || c.MatrixYAML == "" {
		t.Errorf("campaign: %+v", c)
	}
	if len(d.Series) != 2 || d.Series[0].Strategy != "tp" || d.Series[1].Strategy != "dp" {
		t.Fatalf("series: %+v", d.Series)
	}
	for _, s := range d.Series {
		if len(s.Points) != 2 || s.Amdahl == nil || s.Verdict.Code == "" || len(s.Points[1].ExpIDs) != 1 {
			t.Errorf("series %s: %d points, amdahl %v, verdict %q", s.Name, len(s.Points), s.Amdahl, s.Verdict.Code)
		}
	}
	if d.Series[0].Verdict.Code != diagnose.CodeTPComm {
		t.Errorf("TP-only over PCIe: verdict %s, want %s", d.Series[0].Verdict.Code, diagnose.CodeTPComm)
	}
	var failed *reportdata.Experiment
	for i, e := range d.Experiments {
		switch e.Status {
		case reportdata.StatusFailed:
			failed = &d.Experiments[i]
		case reportdata.StatusDone:
			checkMeasured(t, e)
			if e.Timeline.GPUUtil != nil {
				t.Errorf("%s: GPU utilisation without GPU telemetry", e.ID)
			}
		}
	}
	if failed == nil || !strings.Contains(failed.Reason, "server did not start") || failed.Summary != nil {
		t.Fatalf("failed experiment: %+v", failed)
	}
	html := renderString(t, d)
	for _, want := range []string{charts.NoTelemetry, failed.ID, "server did not start", "TP communication", `id="failed"`} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if err := figures.Write(t.TempDir(), d, 40); err != nil {
		t.Errorf("figures: %v", err)
	}
	if len(d.LoadCurves) != 3 || d.LoadCurves[0].Points[0].Load != 2 || len(d.Pareto) != 6 {
		t.Errorf("%d load curves (%+v), %d Pareto points", len(d.LoadCurves), d.LoadCurves, len(d.Pareto))
	}
	// Two user counts, throughput 4× higher at the second: the curve has not bent, so it has
	// no saturation mark (not one on its last point), and says why.
	if lc := d.LoadCurves[0]; lc.Saturation != nil || !strings.Contains(lc.SaturationReason, "still grew at the heaviest load (16)") {
		t.Errorf("saturation %v (%s), want none: throughput still grew", lc.Saturation, lc.SaturationReason)
	}
}

// checkMeasured checks a done experiment of a simulator campaign: its summary, latency CDFs
// and timeline with the server's gauges and the request rate, inside the limits.
func checkMeasured(t *testing.T, e reportdata.Experiment) {
	t.Helper()
	if e.Summary == nil || e.Summary.Completed == 0 || e.Diagnosis == nil {
		t.Errorf("%s: summary %+v, diagnosis %v", e.ID, e.Summary, e.Diagnosis)
	}
	for name, c := range map[string]reportdata.CDF{"TTFT": e.TTFT, "ITL": e.ITL, "E2E": e.E2E} {
		if len(c.P) == 0 || len(c.P) != len(c.Ms) || len(c.P) > reportdata.MaxCDFPoints || c.P[len(c.P)-1] != 1 {
			t.Errorf("%s: %s CDF has %d/%d points", e.ID, name, len(c.P), len(c.Ms))
		}
	}
	tl := e.Timeline
	if tl == nil {
		t.Errorf("%s: no timeline", e.ID)
		return
	}
	n := len(tl.OffsetS)
	if n < 4 || n > reportdata.MaxTimelinePoints || len(tl.Running) != n || len(tl.Waiting) != n || len(tl.KVUsage) != n ||
		len(tl.RequestRate) != n || tl.RequestRateSource != reportdata.RateFromRequests || tl.MeasureFrom == nil || tl.MeasureTo == nil {
		t.Errorf("%s: timeline of %d instants: running %d, waiting %d, kv %d, rate %d (%s), window %v–%v", e.ID, n,
			len(tl.Running), len(tl.Waiting), len(tl.KVUsage), len(tl.RequestRate), tl.RequestRateSource, tl.MeasureFrom, tl.MeasureTo)
		return
	}
	if maxOf(tl.Running) == 0 || maxOf(tl.RequestRate) == 0 || tl.BatchCap != 8*e.Factors.DP {
		t.Errorf("%s: running at most %g, request rate at most %g, batch cap %d", e.ID, maxOf(tl.Running), maxOf(tl.RequestRate), tl.BatchCap)
	}
	// The scrapes run during the measured window only: running is sampled there.
	for i, x := range tl.OffsetS {
		if !math.IsNaN(tl.Running[i]) && (x < *tl.MeasureFrom-0.3 || x > *tl.MeasureTo+0.3) {
			t.Errorf("%s: running sampled at %gs, outside the window %g–%g s", e.ID, x, *tl.MeasureFrom, *tl.MeasureTo)
			break
		}
	}
}

// TestTreeCampaign runs a small campaign on the simulator now (the files as this
// version writes them), then damages it: one experiment gets GPU telemetry (made up, on the
// experiment's grid), one a corrupted server_metrics.parquet. The report keeps everything
// else of both, aligns the GPU samples with the experiment's start, and names the bad file.
func TestTreeCampaign(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	runCampaign(t, dir, "m.yaml", liveMatrix)
	root := filepath.Join(dir, "results")
	withGPU, corrupted := "live_G1_TP1_DP1_U16_rand64x16_O16_B8", "live_G2_TP1_DP2_U2_rand64x16_O16_B8"
	rec, err := results.ReadExperiment(results.Dir(root, withGPU))
	if err != nil {
		t.Fatal(err)
	}
	writeGPU(t, results.Dir(root, withGPU), rec.StartedAt, 250*time.Millisecond, 12)
	if err := os.WriteFile(filepath.Join(results.Dir(root, corrupted), results.ServerMetricsFile), []byte("PAR1 not parquet"), 0o644); err != nil {
		t.Fatal(err)
	}
	d, log := buildFrom(t, root)
	if !strings.Contains(log, corrupted+": server_metrics.parquet unreadable") {
		t.Errorf("problems: %q, want the corrupted file named", log)
	}
	if len(d.Experiments) != 4 || len(d.Series) != 1 || len(d.Series[0].Points) != 2 || d.Campaign.Done != 4 {
		t.Fatalf("%d experiments, series %+v, campaign %+v", len(d.Experiments), d.Series, d.Campaign)
	}
	for _, e := range d.Experiments {
		switch e.ID {
		case corrupted:
			if e.Summary == nil || len(e.TTFT.P) == 0 || e.Timeline == nil || e.Timeline.Running != nil || e.Timeline.RequestRate == nil {
				t.Errorf("%s: summary %v, %d TTFT points, timeline %+v", e.ID, e.Summary, len(e.TTFT.P), e.Timeline)
			}
		case withGPU:
			checkMeasured(t, e)
			checkGPUTimeline(t, e.Timeline)
		default:
			checkMeasured(t, e)
			if e.Timeline != nil && e.Timeline.GPUUtil != nil {
				t.Errorf("%s: GPU utilisation without gpu.parquet", e.ID)
			}
		}
	}
	if html := renderString(t, d); !strings.Contains(html, charts.NoTelemetry) || !strings.Contains(html, "GPU utilisation (mean)") {
		t.Errorf("report does not show both the GPU chart and the no-telemetry note")
	}
}

// writeGPU writes gpu.parquet: two GPUs sampled every step from start, utilisation 10·k and
// 10·k + 20 % at instant k (mean 10·k + 10).
func writeGPU(t *testing.T, dir string, start time.Time, step time.Duration, n int) {
	t.Helper()
	var rows []results.GPUSample
	for k := range n {
		for g := range 2 {
			u := float64(10*k + 20*g)
			rows = append(rows, results.GPUSample{TimeUnixNs: start.Add(time.Duration(k) * step).UnixNano(),
				OffsetNs: int64(time.Duration(k) * step), Tick: int64(k), GPUIndex: int32(g), SMUtilPct: &u})
		}
	}
	if err := results.WriteParquet(filepath.Join(dir, results.GPUFile), rows); err != nil {
		t.Fatal(err)
	}
}

// checkGPUTimeline: the made-up samples land on their instants (the grid step is 250 ms).
func checkGPUTimeline(t *testing.T, tl *reportdata.Timeline) {
	t.Helper()
	if tl == nil || tl.GPUUtil == nil {
		t.Fatalf("no GPU utilisation in %+v", tl)
	}
	for i, x := range tl.OffsetS {
		k := math.Round(x / 0.25)
		want := math.NaN()
		if k < 12 && math.Abs(x-k*0.25) < 1e-9 {
			want = 10*k + 10
		}
		if got := tl.GPUUtil[i]; !(got == want || math.IsNaN(got) && math.IsNaN(want)) {
			t.Errorf("GPU utilisation at %gs: %g, want %g", x, got, want)
		}
	}
}

// TestH100Tree builds the report of testdata/h100/results, a simulator campaign run on a
// 4×H100 machine with real GPU telemetry, kept without its request files: the experiments
// have no summaries, yet their timelines show the GPUs, the server's gauges and its
// completion counter, and the report renders.
func TestH100Tree(t *testing.T) {
	t.Parallel()
	d, log := buildFrom(t, "../../testdata/h100/results")
	if log != "" {
		t.Errorf("problems: %s", log)
	}
	c := d.Campaign
	if len(c.GPUs) != 4 || !strings.Contains(c.GPUs[0], "H100") || c.Interconnect != "all pairs NVLink NV18" ||
		!containsName(c.Versions, "NVIDIA driver") || !containsName(c.Versions, "CUDA") || c.Done != 10 {
		t.Errorf("campaign: %+v", c)
	}
	if len(d.Experiments) != 10 {
		t.Fatalf("%d experiments", len(d.Experiments))
	}
	for _, e := range d.Experiments {
		tl := e.Timeline
		if e.Summary != nil || e.Reason == "" || tl == nil || tl.GPUUtil == nil || maxOf(tl.GPUUtil) < 50 ||
			tl.Running == nil || tl.RequestRateSource != reportdata.RateFromServer || maxOf(tl.RequestRate) == 0 {
			t.Errorf("%s: summary %v, reason %q, timeline %+v", e.ID, e.Summary, e.Reason, tl)
		}
	}
	html := renderString(t, d)
	for _, want := range []string{"GPU utilisation (mean)", "(server counter)", "requests.parquet missing", "4 × NVIDIA H100 80GB HBM3"} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

func containsName(vs []reportdata.NameValue, name string) bool {
	for _, v := range vs {
		if v.Name == name && v.Value != "" {
			return true
		}
	}
	return false
}

// maxOf is the largest finite value of v, 0 when none is larger.
func maxOf(v reportdata.Values) float64 {
	m := 0.0
	for _, x := range v {
		if !math.IsNaN(x) && !math.IsInf(x, 0) && x > m {
			m = x
		}
	}
	return m
}
