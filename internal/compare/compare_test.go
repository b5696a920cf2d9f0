package compare

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/llmscale/llmscale/internal/aggregate"
	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/results"
)

func f(v float64) *float64 { return &v }

// row is a done experiment at gpus and users with a throughput and a p99 TTFT.
func row(id string, gpus, users int64, tput, ttft99 float64) aggregate.Row {
	return aggregate.Row{ExpID: id, Status: results.StatusDone, GPUs: gpus, TP: gpus, DP: 1, PP: 1, Mode: "users",
		Users: users, Prompts: "medium", MaxTokens: 128, OutputThroughput: f(tput), TTFTP99: f(ttft99)}
}

func campaign(arg string, rows ...aggregate.Row) Campaign {
	return Campaign{Side: Side{Arg: arg, Root: filepath.Join("/nonexistent", arg)}, Rows: rows}
}

func TestParseSide(t *testing.T) {
	t.Parallel()
	cases := []struct {
		arg, root, wantErr string
		filters            int
	}{
		{arg: "results", root: "results"},
		{arg: "results@tp=1", root: "results", filters: 1},
		{arg: "a/b@tp=1, dp = 2", root: "a/b", filters: 2},
		{arg: "results@nosuch=1", wantErr: "not a column"},
		{arg: "results@tp", wantErr: "col=value"},
		{arg: "@tp=1", wantErr: "no results folder"},
	}
	for _, c := range cases {
		s, err := ParseSide(c.arg)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("ParseSide(%q) error %v, want %q", c.arg, err, c.wantErr)
			}
			continue
		}
		if err != nil || s.Root != c.root || len(s.Select) != c.filters {
			t.Errorf("ParseSide(%q) = %+v, %v; want root %q with %d filters", c.arg, s, err, c.root, c.filters)
		}
	}
}

func TestCompareRepeats(t *testing.T) {
	t.Parallel()
	// Three repeats a side. At 1 GPU throughput rose 20% with ~1% spread: beyond noise, better.
	// At 2 GPUs it moved 1% with ~5% spread: within noise. The 4-GPU point exists in A only.
	a := campaign("a", row("a1", 1, 8, 100, 50), row("a1r2", 1, 8, 101, 51), row("a1r3", 1, 8, 99, 49),
		row("a2", 2, 8, 190, 40), row("a2r2", 2, 8, 200, 44), row("a2r3", 2, 8, 210, 36),
		row("a4", 4, 8, 300, 30))
	b := campaign("b", row("b1", 1, 8, 120, 60), row("b1r2", 1, 8, 121, 61), row("b1r3", 1, 8, 119, 59),
		row("b2", 2, 8, 192, 40), row("b2r2", 2, 8, 202, 44), row("b2r3", 2, 8, 212, 36))
	res, err := Compare(a, b, Options{Metrics: []string{"output_throughput_tps", "p99_ttft_ms"}, Resamples: -1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Points) != 2 || len(res.OnlyA) != 1 || len(res.OnlyB) != 0 {
		t.Fatalf("got %d points, %d only in A, %d only in B; want 2, 1, 0", len(res.Points), len(res.OnlyA), len(res.OnlyB))
	}
	want := map[string][2]string{
		"gpus=1 tp=1": {"better", "worse"}, // throughput up, TTFT up: worse
		"gpus=2 tp=2": {"within noise", "same"},
	}
	for _, p := range res.Points {
		w, ok := want[p.Label]
		if !ok {
			t.Fatalf("unexpected point label %q (vary %v)", p.Label, res.Vary)
		}
		for i, c := range p.Changes {
			if c.Method != NoiseRepeats || c.Verdict() != w[i] {
				t.Errorf("%s %s: verdict %q by %s (A %g B %g ±%g), want %q by repeats", p.Label, c.Metric, c.Verdict(),
					c.Method, c.A, c.B, c.Noise, w[i])
			}
		}
	}
	if got := res.Points[0].Changes[0].Rel; math.Abs(got-0.2) > 1e-9 {
		t.Errorf("relative change %g, want 0.2", got)
	}
}

func TestCompareSelectionDropsSelectedColumns(t *testing.T) {
	t.Parallel()
	rows := []aggregate.Row{row("tp1", 1, 8, 100, 50), row("tp2", 2, 8, 150, 50)}
	dp := row("dp2", 2, 8, 190, 50)
	dp.TP, dp.DP = 1, 2
	rows = append(rows, dp)
	a, b := Side{Arg: "r@dp=1", Select: []Filter{{"dp", "1"}}}, Side{Arg: "r@tp=1", Select: []Filter{{"tp", "1"}}}
	ca, cb := Campaign{Side: a, Rows: a.filter(rows)}, Campaign{Side: b, Rows: b.filter(rows)}
	res, err := Compare(ca, cb, Options{Metrics: []string{"output_throughput_tps"}, Resamples: -1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Points) != 2 {
		t.Fatalf("got %d points, want 2 (1 and 2 GPUs matched across the TP and DP series)", len(res.Points))
	}
	if c := res.Points[1].Changes[0]; c.A != 150 || c.B != 190 || c.Verdict() != "changed (noise unknown)" {
		t.Errorf("2 GPUs: A %g B %g %q; want 150, 190, changed (noise unknown)", c.A, c.B, c.Verdict())
	}
}

func TestCompareErrors(t *testing.T) {
	t.Parallel()
	a := campaign("a", row("a1", 1, 8, 100, 50))
	if _, err := Compare(a, a, Options{Metrics: []string{"no_such_metric"}}); err == nil || !strings.Contains(err.Error(), "unknown metric") {
		t.Errorf("unknown metric: error %v", err)
	}
	if _, err := Compare(a, a, Options{Metrics: []string{"model"}}); err == nil || !strings.Contains(err.Error(), "not a number") {
		t.Errorf("text column as metric: error %v", err)
	}
	if _, err := Compare(a, a, Options{Ignore: []string{"ttft_ms_p99"}}); err == nil || !strings.Contains(err.Error(), "not a key column") {
		t.Errorf("--ignore of a non-key: error %v", err)
	}
}

// writeExperiment writes a done experiment with n requests whose TTFT is around ttft.
func writeExperiment(t *testing.T, root, id string, n int, ttft time.Duration, seed uint64) {
	t.Helper()
	dir := results.Dir(root, id)
	exp := results.Experiment{ID: id, Status: results.StatusDone, Factors: map[string]string{"gpus": "1"},
		Server: results.ServerInfo{GPUs: 1, TP: 1, DP: 1, PP: 1}, Load: results.LoadInfo{Intensity: loadspec.Intensity{Mode: loadspec.Mode("users"), Users: 8}, Prompts: "medium", MaxTokens: 16, API: "completions", RunTimeNs: int64(10 * time.Second)}}
	if err := results.WriteExperiment(dir, exp); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	reqs := make([]results.Request, n)
	for i := range reqs {
		sent := int64(i) * int64(10*time.Second) / int64(n)
		tt := int64(float64(ttft) * (0.8 + 0.4*rng.Float64()))
		e2e := tt + int64(15*10*time.Millisecond)
		reqs[i] = results.Request{ExperimentID: id, Seq: int64(i), Phase: results.PhaseMeasure, DueNs: sent, SentNs: sent,
			FirstTokenNs: sent + tt, DoneNs: sent + e2e, EndNs: sent + e2e, TTFTNs: tt, E2ENs: e2e, TPOTNs: int64(10 * time.Millisecond),
			Chunks: 16, PromptTokens: 100, OutputTokens: 16, TokensFromUsage: true, HTTPStatus: 200}
	}
	if err := results.WriteParquet(filepath.Join(dir, results.RequestsFile(0, 1)), reqs); err != nil {
		t.Fatal(err)
	}
}

func TestCompareBootstrap(t *testing.T) {
	t.Parallel()
	rootA, rootB := t.TempDir(), t.TempDir()
	writeExperiment(t, rootA, "e1", 400, 100*time.Millisecond, 1)
	writeExperiment(t, rootB, "e1", 400, 130*time.Millisecond, 2) // 30% slower first tokens
	writeExperiment(t, rootA, "e2", 400, 100*time.Millisecond, 3)
	writeExperiment(t, rootB, "e2", 400, 101*time.Millisecond, 4) // the same, give or take
	setE2 := func(root string) {
		e, _ := results.ReadExperiment(results.Dir(root, "e2"))
		e.Load.Users = 16
		if err := results.WriteExperiment(results.Dir(root, "e2"), e); err != nil {
			t.Fatal(err)
		}
	}
	setE2(rootA)
	setE2(rootB)
	a, err := Load(Side{Arg: "a", Root: rootA}, 0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Load(Side{Arg: "b", Root: rootB}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Aggregated || len(a.Rows) != 2 {
		t.Fatalf("side A: aggregated %v with %d rows (problems %v); want in-memory aggregation of 2", a.Aggregated, len(a.Rows), a.Problems)
	}
	res, err := Compare(a, b, Options{Metrics: []string{"ttft_ms_p50"}, Resamples: 100, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range res.Points {
		c := p.Changes[0]
		if c.Method != NoiseBootstrap {
			t.Fatalf("%s: noise by %s, want bootstrap", p.Label, c.Method)
		}
		got[p.Label] = c.Verdict()
	}
	if got["users=8"] != "worse" || got["users=16"] != "within noise" {
		t.Errorf("verdicts %v; want users=8 worse (TTFT +30%%), users=16 within noise (+1%%)", got)
	}
}

func TestLoadNotResults(t *testing.T) {
	t.Parallel()
	if _, err := Load(Side{Arg: "x", Root: t.TempDir()}, 0); err == nil || !strings.Contains(err.Error(), "not a results tree") {
		t.Errorf("Load of an empty folder: error %v, want not a results tree", err)
	}
}

// TestCompareSweepPoints: a sweep's rate points pair by their place in the sweep, though each
// campaign set their rates from its own measured throughput; a rate experiment (mode rate)
// still pairs by rate.
func TestCompareSweepPoints(t *testing.T) {
	t.Parallel()
	point := func(id, stage string, index int64, rate, tput float64) aggregate.Row {
		r := row(id, 1, 0, tput, 50)
		r.Mode, r.Rate, r.SweepID, r.SweepStage, r.SweepIndex = "sweep", rate, "s", stage, index
		return r
	}
	plain := func(id string, rate, tput float64) aggregate.Row {
		r := row(id, 1, 0, tput, 50)
		r.Mode, r.Rate = "rate", rate
		return r
	}
	a := campaign("a", point("a-sync", "sync", 0, 0, 10), point("a-max", "throughput", 0, 0, 300),
		point("a-r1", "rate", 1, 107.3, 100), point("a-r2", "rate", 2, 203.8, 190), plain("a-rate", 50, 50))
	b := campaign("b", point("b-sync", "sync", 0, 0, 11), point("b-max", "throughput", 0, 0, 320),
		point("b-r1", "rate", 1, 110.9, 105), point("b-r2", "rate", 2, 215.2, 200), plain("b-rate", 60, 60))
	res, err := Compare(a, b, Options{Metrics: []string{"output_throughput_tps"}, Resamples: -1})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][2]float64{}
	for _, p := range res.Points {
		got[p.Point.A[0].ExpID+" "+p.Point.B[0].ExpID] = [2]float64{p.Changes[0].A, p.Changes[0].B}
	}
	for _, pair := range []string{"a-sync b-sync", "a-max b-max", "a-r1 b-r1", "a-r2 b-r2"} {
		if _, ok := got[pair]; !ok {
			t.Errorf("%s not paired; pairs: %v", pair, got)
		}
	}
	if len(res.Points) != 4 || len(res.OnlyA) != 1 || len(res.OnlyB) != 1 {
		t.Errorf("%d pairs, %d only in A, %d only in B; want 4, 1, 1 (rate 50 and rate 60 differ)",
			len(res.Points), len(res.OnlyA), len(res.OnlyB))
	}
}
