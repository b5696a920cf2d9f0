package diagnose

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmscale/llmscale/internal/aggregate"
	"github.com/llmscale/llmscale/internal/fit"
	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/scaling"
)

var f = aggregate.F

// server is a done experiment whose server metrics say: running and waiting (means) on a cap
// of 64, KV usage kv, no preemption, 64 users all inside the engines.
func server(running, waiting, kv float64) aggregate.Row {
	r := aggregate.Row{ExpID: "e", Status: results.StatusDone, Mode: "users", Users: 64, LoadLevel: 64, GPUs: 1, TP: 1, DP: 1,
		RunningMean: f(running), WaitingMean: f(waiting), BatchCapTotal: 64, MaxNumSeqs: 64, Engines: 1,
		MaxNumBatchedTokens: 8192, RunningCapFraction: f(running / 64), KVCacheUsageMaxEngine: f(kv),
		PreemptionsPerRequest: f(0), ClientInflightMean: f(running + waiting), OutsideEngineInflight: f(0),
		FrontendShareOfE2E: f(0.02), IterationBudgetFrac: f(0.05), QueueShareOfTTFT: f(0.1), SendLagP99: f(0.2)}
	return r
}

func TestExperimentRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		row       func() aggregate.Row
		want      string
		saturated bool
	}{
		{"idle server", func() aggregate.Row { return server(10, 0.3, 0.1) }, CodeNotSaturated, false},
		{"batch full with a queue", func() aggregate.Row { return server(63, 150, 0.3) }, CodeBatchCap, true},
		{"batch full, no queue", func() aggregate.Row { return server(60, 2, 0.3) }, CodeBatchCap, true},
		{"kv full", func() aggregate.Row {
			r := server(20, 40, 0.99)
			r.PreemptionsPerRequest = f(0.3)
			return r
		}, CodeKVCache, true},
		{"token budget", func() aggregate.Row {
			r := server(12, 40, 0.2)
			r.IterationBudgetFrac, r.QueueShareOfTTFT = f(0.95), f(0.9)
			return r
		}, CodePrefillBudget, true},
		{"api server", func() aggregate.Row {
			r := server(12, 0, 0.1)
			r.ClientInflightMean, r.OutsideEngineInflight, r.FrontendShareOfE2E = f(200), f(188), f(0.8)
			return r
		}, CodeAPIServer, true},
		{"client behind", func() aggregate.Row {
			r := server(10, 0, 0.1)
			r.SendLagP99 = f(80)
			return r
		}, CodeLoadGenerator, false},
		{"client cpu", func() aggregate.Row {
			r := server(10, 0, 0.1)
			r.ClientCPUCores, r.ClientCores, r.ClientCPUMaxFraction = f(3.9), f(8), f(0.97)
			return r
		}, CodeLoadGenerator, false},
		{"gpus busy", func() aggregate.Row {
			r := server(30, 0, 0.1)
			r.GPUUtilMean, r.SMActiveMean = f(98), f(80)
			return r
		}, CodeGPUBound, true},
		{"queue below cap, no reason", func() aggregate.Row { return server(20, 30, 0.5) }, CodeUnknown, true},
		{"no server metrics", func() aggregate.Row {
			return aggregate.Row{ExpID: "e", Status: results.StatusDone, SendLagP99: f(0.1)}
		}, CodeUnknown, false},
		{"failed", func() aggregate.Row {
			return aggregate.Row{ExpID: "e", Status: results.StatusFailed, FailureReason: "server crashed"}
		}, CodeFailed, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := tt.row()
			d := Experiment(&r)
			if d.Verdict.Code != tt.want || d.Saturated != tt.saturated {
				t.Errorf("verdict %s saturated %v, want %s %v: %s", d.Verdict.Code, d.Saturated, tt.want, tt.saturated, d.Verdict.Sentence)
			}
			if d.Verdict.Label == "" || d.Verdict.Sentence == "" || d.SaturatedReason == "" {
				t.Errorf("empty label, sentence or reason: %+v", d)
			}
			if tt.want != CodeFailed && len(d.Verdict.Evidence) == 0 {
				t.Error("no evidence")
			}
			for _, e := range d.Verdict.Evidence {
				if e.Name == "" || e.Threshold == "" || (e.Missing() && e.Holds) {
					t.Errorf("bad evidence %+v", e)
				}
			}
		})
	}
}

// TestMissingEvidence: without GPU telemetry the verdict still comes from the server metrics
// and says the GPU evidence is missing.
func TestMissingEvidence(t *testing.T) {
	t.Parallel()
	r := server(64, 100, 0.2)
	d := Experiment(&r)
	if d.Verdict.Code != CodeBatchCap || !strings.Contains(strings.Join(d.Verdict.Missing, ";"), "GPU utilisation") {
		t.Errorf("verdict %s, missing %v", d.Verdict.Code, d.Verdict.Missing)
	}
	r = aggregate.Row{ExpID: "e", Status: results.StatusDone}
	d = Experiment(&r)
	if !strings.Contains(d.Verdict.Sentence, "No server metrics") || !strings.Contains(d.Verdict.Sentence, "Missing evidence") {
		t.Errorf("unknown without metrics: %s", d.Verdict.Sentence)
	}
}

// TestAlso: rules that hold beside the primary verdict are listed.
func TestAlso(t *testing.T) {
	t.Parallel()
	r := server(64, 100, 0.99)
	r.PreemptionsPerRequest = f(0.05)
	d := Experiment(&r)
	if d.Verdict.Code != CodeKVCache || !strings.Contains(strings.Join(d.Verdict.Also, ";"), CodeBatchCap) {
		t.Errorf("verdict %s also %v, want kv_cache also batch_cap", d.Verdict.Code, d.Verdict.Also)
	}
}

// fitted fits a series of the given strategy with throughput x[i] at GPU counts n[i], the
// point experiments named <strategy>-<n>.
func fitted(t *testing.T, strategy string, n []int, x []float64) scaling.Fit {
	t.Helper()
	grow := map[string]string{scaling.StrategyTP: "tp", scaling.StrategyDP: "dp", scaling.StrategyTable: ""}[strategy]
	s := scaling.Series{Name: strategy, Strategy: strategy, Grow: grow, Prompts: "p", MaxTokens: 8}
	for i := range n {
		s.Points = append(s.Points, scaling.Point{GPUs: n[i], Repeat: 1, Throughput: x[i],
			ExpID: fmt.Sprintf("%s-%d", strategy, n[i]), Saturated: true})
	}
	return scaling.FitAll([]scaling.Series{s}, scaling.Options{Fit: fit.Options{Resamples: 200}})[0]
}

func TestSeriesRules(t *testing.T) {
	t.Parallel()
	n := []int{1, 2, 4, 8}
	rows := map[string]*aggregate.Row{}
	exps := map[string]ExperimentDiagnosis{}
	set := func(id string, r aggregate.Row) {
		r.ExpID = id
		rows[id], exps[id] = &r, Experiment(&r)
	}
	for _, g := range n {
		set(fmt.Sprintf("tp-%d", g), server(64, 100, 0.2))
		set(fmt.Sprintf("dp-%d", g), server(64, 100, 0.2))
		set(fmt.Sprintf("table-%d", g), server(64, 100, 0.2))
	}
	tp := fitted(t, scaling.StrategyTP, n, []float64{1000, 1500, 1900, 2100})
	dp := fitted(t, scaling.StrategyDP, n, []float64{1000, 1990, 3950, 7800})
	all := []scaling.Fit{tp, dp}
	if d := Series(tp, all, exps, rows); d.Verdict.Code != CodeTPComm {
		t.Errorf("TP worse than DP: %s (%s)", d.Verdict.Code, d.Verdict.Sentence)
	}
	if d := Series(dp, all, exps, rows); d.Verdict.Code != CodeNearLinear {
		t.Errorf("near-linear DP: %s (%s)", d.Verdict.Code, d.Verdict.Sentence)
	}
	// Without a DP series, a rising Karp–Flatt metric says the same; a flat one falls back
	// to the largest point's limit (the batch cap, which does not grow with TP).
	rising := fitted(t, scaling.StrategyTP, n, []float64{1000, 1800, 2600, 2900})
	if d := Series(rising, []scaling.Fit{rising}, exps, rows); d.Verdict.Code != CodeTPComm || len(d.Verdict.Missing) == 0 {
		t.Errorf("rising Karp–Flatt without DP: %s missing %v (%s)", d.Verdict.Code, d.Verdict.Missing, d.Verdict.Sentence)
	}
	flat := fitted(t, scaling.StrategyTP, n, []float64{1000, fit.AmdahlThroughput(1000, 0.3, 2), fit.AmdahlThroughput(1000, 0.3, 4), fit.AmdahlThroughput(1000, 0.3, 8)})
	if d := Series(flat, []scaling.Fit{flat}, exps, rows); d.Verdict.Code != CodeBatchCap {
		t.Errorf("flat Karp–Flatt, batch-capped TP: %s (%s)", d.Verdict.Code, d.Verdict.Sentence)
	}
	// A DP series with the same batch-capped points has nothing to explain its loss.
	subDP := fitted(t, scaling.StrategyDP, n, []float64{1000, 1700, 2800, 4000})
	if d := Series(subDP, []scaling.Fit{subDP}, exps, rows); d.Verdict.Code != CodeUnknown || !strings.Contains(d.Verdict.Sentence, "GPU telemetry") {
		t.Errorf("unexplained DP: %s (%s)", d.Verdict.Code, d.Verdict.Sentence)
	}
	// A top point whose batch was full only on average, with no queue, understates the server.
	under := map[string]*aggregate.Row{}
	maps.Copy(under, rows)
	thin := server(58, 1, 0.2) // 91 % of the cap, no standing queue
	under["dp-8"] = &thin
	if d := Series(subDP, []scaling.Fit{subDP}, exps, under); d.Verdict.Code != CodeNotSaturated || !strings.Contains(d.Verdict.Sentence, "no queue") {
		t.Errorf("underfilled top: %s (%s)", d.Verdict.Code, d.Verdict.Sentence)
	}
	// An unsaturated point comes first.
	unsat := dp
	unsat.Series.Points = append([]scaling.Point(nil), dp.Series.Points...)
	unsat.Series.Points[3].Saturated = false
	if d := Series(unsat, all, exps, rows); d.Verdict.Code != CodeNotSaturated || !strings.Contains(d.Verdict.Sentence, "8 GPUs") {
		t.Errorf("unsaturated top: %s (%s)", d.Verdict.Code, d.Verdict.Sentence)
	}
	table := fitted(t, scaling.StrategyTable, n, []float64{1000, 1500, 1900, 2100})
	if d := Series(table, nil, exps, rows); d.Verdict.Code != CodeUnknown || len(d.Verdict.Missing) == 0 {
		t.Errorf("table: %s (%s)", d.Verdict.Code, d.Verdict.Sentence)
	}
	bad := scaling.Fit{Series: scaling.Series{Name: "x"}, Status: scaling.StatusNotFitted, Reason: "fewer than two GPU counts"}
	if d := Series(bad, nil, exps, rows); d.Verdict.Code != CodeUnknown || !strings.Contains(d.Verdict.Sentence, "fewer") {
		t.Errorf("not fitted: %s (%s)", d.Verdict.Code, d.Verdict.Sentence)
	}
}

// TestFiles: diagnosis.csv has one row per experiment and series; diagnosis.json reads back.
func TestFiles(t *testing.T) {
	t.Parallel()
	rows := []aggregate.Row{server(64, 100, 0.2), server(3, 0, 0.1)}
	rows[1].ExpID = "e2"
	d := All(rows, nil)
	dir := t.TempDir()
	if err := Write(dir, d); err != nil {
		t.Fatal(err)
	}
	csv, err := os.ReadFile(filepath.Join(dir, CSVFile))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(csv)), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "kind,subject,status,verdict") || !strings.Contains(lines[1], "batch_cap") {
		t.Errorf("diagnosis.csv:\n%s", csv)
	}
	back, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Experiments) != 2 || back.Experiments[1].Verdict.Code != CodeNotSaturated || back.Thresholds["AtCapFraction"] != AtCapFraction {
		t.Errorf("read back %+v", back)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, JSONFile))
	if !json.Valid(raw) || strings.Contains(string(raw), "NaN") {
		t.Errorf("diagnosis.json is not valid JSON without NaN")
	}
}

func TestNum(t *testing.T) {
	t.Parallel()
	for v, want := range map[float64]string{64: "64", 0.5: "0.5", 0.12345: "0.123", 12.345: "12.35", 1234.5: "1234", math.NaN(): "?"} {
		if got := num(v); got != want {
			t.Errorf("num(%v) = %q, want %q", v, got, want)
		}
	}
}
