package scaling

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/llmscale/llmscale/internal/aggregate"
	"github.com/llmscale/llmscale/internal/fit"
	"github.com/llmscale/llmscale/internal/results"
)

// row is a done experiment at (tp, dp) with output throughput x at load level users.
func row(tp, dp, users int, x float64, saturated bool) aggregate.Row {
	return aggregate.Row{ExpID: fmt.Sprintf("G%d_TP%d_DP%d_U%d", tp*dp, tp, dp, users), Status: results.StatusDone, Repeat: 1,
		Engine: "sim", Model: "m", GPUs: int64(tp * dp), TP: int64(tp), DP: int64(dp), PP: 1, Mode: "users",
		Users: int64(users), LoadLevel: float64(users), Prompts: "short", MaxTokens: 128, BatchSize: 64,
		OutputThroughput: aggregate.F(x), Saturated: saturated, SaturatedReason: "batch cap"}
}

func find(ss []Series, strategy string) *Series {
	for i := range ss {
		if ss[i].Strategy == strategy {
			return &ss[i]
		}
	}
	return nil
}

// TestBuild: TP-only, DP-only and mixed series from one campaign, the 1-GPU point in both
// pure series, each point the best load level, and the saturation flag.
func TestBuild(t *testing.T) {
	t.Parallel()
	rows := []aggregate.Row{
		row(1, 1, 32, 3000, false), row(1, 1, 256, 4600, true),
		row(2, 1, 32, 4700, false), row(2, 1, 256, 8000, true),
		row(1, 2, 32, 4000, false), row(1, 2, 256, 8500, true),
		row(1, 4, 32, 4100, false), row(1, 4, 256, 4150, false), // flat over load: a plateau
		row(2, 2, 256, 14000, true),
		row(4, 1, 32, 6100, false), // only light load: not saturated
	}
	failed := row(4, 1, 256, 99999, true)
	failed.Status = results.StatusFailed // never a point
	rows = append(rows, failed)
	ss := Build(rows)
	want := map[string]string{ // strategy → "gpus:throughput:saturated …"
		StrategyTP: "1:4600:true 2:8000:true 4:6100:false",
		StrategyDP: "1:4600:true 2:8500:true 4:4150:true",
		"tp2xdp":   "2:8000:true 4:14000:true",
		"dp2xtp":   "2:8500:true 4:14000:true",
	}
	if len(ss) != len(want) {
		t.Errorf("%d series, want %d: %v", len(ss), len(want), names(ss))
	}
	for strategy, pts := range want {
		s := find(ss, strategy)
		if s == nil {
			t.Errorf("no %s series in %v", strategy, names(ss))
			continue
		}
		var got []string
		for _, p := range s.Points {
			got = append(got, fmt.Sprintf("%d:%g:%v", p.GPUs, p.Throughput, p.Saturated))
		}
		if strings.Join(got, " ") != pts {
			t.Errorf("%s: points %v, want %s", strategy, got, pts)
		}
	}
	if dp := find(ss, StrategyDP); dp != nil && !strings.HasPrefix(dp.Points[2].SaturatedBy, "plateau") {
		t.Errorf("DP 4: saturated by %q, want a plateau", dp.Points[2].SaturatedBy)
	}
	if tp := find(ss, StrategyTP); tp == nil || tp.Name != "TP-only · short · 128 tok · B64" || tp.StrategyLabel != "TP-only" {
		t.Errorf("TP series name %q", tp.Name)
	}
	if s := find(ss, "tp2xdp"); s == nil || s.StrategyLabel != "TP2×DPn" {
		t.Errorf("mixed series label: %+v", s)
	}
}

func names(ss []Series) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.Name)
	}
	return out
}

// TestSeriesApart: series differ by every non-GPU factor; repeats become points of one series.
func TestSeriesApart(t *testing.T) {
	t.Parallel()
	var rows []aggregate.Row
	for _, prompts := range []string{"short", "long"} {
		for rep := 1; rep <= 2; rep++ {
			for _, n := range []int{1, 2} {
				r := row(1, n, 64, float64(1000*n+rep), true)
				r.Prompts, r.Repeat = prompts, int64(rep)
				rows = append(rows, r)
			}
		}
	}
	ss := Build(rows)
	if len(ss) != 2 {
		t.Fatalf("series %v, want DP-only for short and long", names(ss))
	}
	for _, s := range ss {
		if len(s.Points) != 4 || s.Points[0].Repeat != 1 || s.Points[1].Repeat != 2 {
			t.Errorf("%s: points %+v, want two repeats at each of 2 GPU counts", s.Name, s.Points)
		}
	}
}

// TestFitAllRecovers: a DP series made from Amdahl's law with s = 0.1 and 2 % noise, three
// repeats, gives s back within its interval, and the same seed gives the same interval.
func TestFitAllRecovers(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	var rows []aggregate.Row
	for rep := 1; rep <= 3; rep++ {
		for _, n := range []int{1, 2, 4, 8} {
			x := fit.AmdahlThroughput(1000, 0.1, float64(n)) * (1 + 0.02*rng.NormFloat64())
			r := row(1, n, 64, x, true)
			r.Repeat = int64(rep)
			rows = append(rows, r)
		}
	}
	ss := Build(rows)
	a, b := FitAll(ss, Options{Seed: 5}), FitAll(ss, Options{Seed: 5})
	if len(a) != 1 || a[0].Status != StatusOK {
		t.Fatalf("fits %+v", a)
	}
	am := a[0].Result.Amdahl
	if math.Abs(am.S-0.1) > 0.03 || !am.SInterval.Contains(0.1) {
		t.Errorf("s = %.4f [%.4f, %.4f], want 0.1 inside", am.S, am.SInterval.Lo, am.SInterval.Hi)
	}
	if b[0].Result.Amdahl.SInterval != am.SInterval {
		t.Errorf("same seed, different intervals: %v and %v", am.SInterval, b[0].Result.Amdahl.SInterval)
	}
	ar := a[0].AmdahlRow()
	if ar.GPUCounts != "1;2;4;8" || ar.RepeatsMin != 3 || ar.S == nil || ar.SLo == nil || ar.KFTrend == "" || !ar.AllSaturated {
		t.Errorf("amdahl row %+v", ar)
	}
	sr := a[0].ScalingRows()
	if len(sr) != 4 || sr[0].Speedup == nil || *sr[0].Speedup != 1 || sr[3].KarpFlatt == nil || sr[3].Gustafson == nil ||
		sr[3].Repeats != 3 || !strings.Contains(sr[3].ExpIDs, "G8") {
		t.Errorf("scaling rows %+v", sr)
	}
}

// TestFromTable: a user's table fits the same way; a one-count series is kept with its reason.
func TestFromTable(t *testing.T) {
	t.Parallel()
	ts, err := fit.ParseTable(strings.NewReader("series,gpus,throughput\na,1,100\na,2,190\na,4,340\nb,8,900\n"))
	if err != nil {
		t.Fatal(err)
	}
	fs := FitAll(FromTable(ts), Options{})
	if len(fs) != 2 || fs[0].Status != StatusOK || fs[1].Status != StatusNotFitted || !strings.Contains(fs[1].Reason, "GPU count") {
		t.Fatalf("fits %+v", fs)
	}
	if fs[0].Seed != DefaultSeed || fs[0].Series.Strategy != StrategyTable {
		t.Errorf("seed %d strategy %q", fs[0].Seed, fs[0].Series.Strategy)
	}
}

// TestFallingThroughputIsSaturated: issue 12's llama.cpp series — throughput fell as users
// rose from 4 to 16 on one slot — is saturated at its best point; a series still rising at
// its highest load is not.
func TestFallingThroughputIsSaturated(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		x    []float64 // at 1, 4, 16 users
		sat  bool
		by   string
	}{
		{"falls after its best", []float64{300, 500, 420}, true, "throughput falls with load"},
		{"still rising", []float64{300, 500, 800}, false, ""},
		{"plateau", []float64{300, 500, 510}, true, "plateau"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var rows []aggregate.Row
			for i, u := range []int{1, 4, 16} {
				rows = append(rows, row(1, 1, u, tc.x[i], false), row(1, 2, u, 2*tc.x[i], false))
			}
			ss := Build(rows)
			dp := find(ss, StrategyDP)
			if dp == nil {
				t.Fatal("no DP series")
			}
			p := dp.Points[0]
			if p.Saturated != tc.sat || !strings.HasPrefix(p.SaturatedBy, tc.by) {
				t.Errorf("saturated %v by %q, want %v by %q", p.Saturated, p.SaturatedBy, tc.sat, tc.by)
			}
			if tc.by == "throughput falls with load" && p.LoadLevel != 4 {
				t.Errorf("best point at load %v, want 4", p.LoadLevel)
			}
		})
	}
}
