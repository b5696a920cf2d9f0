package diagnose

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/llmscale/llmscale/internal/aggregate"
	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/scaling"
)

// llamacpp is issue 12's llama.cpp case: one slot (--parallel 1), 16 users in flight, the
// slot busy (llamacpp:requests_processing 1) and 15 deferred (llamacpp:requests_deferred).
// The cap is the one requested (the campaign had no /props): unverified. llama.cpp exports
// no KV usage, preemptions or finished requests.
func llamacpp() aggregate.Row {
	return aggregate.Row{ExpID: "l", Status: results.StatusDone, Engine: "llamacpp", Mode: "users", Users: 16, LoadLevel: 16,
		GPUs: 1, TP: 1, DP: 1, RunningMean: f(1), WaitingMean: f(15), BatchCapTotal: 1, MaxNumSeqs: 1, Engines: 1,
		BatchCapSource: aggregate.CapFromRequested, RunningCapFraction: f(1), ClientInflightMean: f(16),
		OutsideEngineInflight: f(0), SendLagP99: f(0.3), ServerEvidenceMissing: "kv_usage;preemptions;requests_finished"}
}

func margin(v Verdict) float64 {
	if v.Margin == nil {
		return math.NaN()
	}
	return *v.Margin
}

// TestVerdictsWithMargins: the evidence that must give each verdict, with the verdict's margin.
func TestVerdictsWithMargins(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		row        func() aggregate.Row
		want       string
		saturated  bool
		margin     float64  // the verdict's margin (NaN: not checked)
		sentence   []string // substrings of the sentence
		missing    string   // a substring of the missing evidence
		evidenceIn string   // a substring of some evidence's name
	}{
		{"llama.cpp: 16 in flight on 1 slot", llamacpp, CodeBatchCap, true, 1/AtCapFraction - 1,
			[]string{"--parallel (slots)", "15 requests queued"}, "batch cap reported by the server", "unverified"},
		{"llama.cpp without a waiting gauge: in flight above the cap is the queue", func() aggregate.Row {
			r := llamacpp()
			r.WaitingMean = nil
			return r
		}, CodeBatchCap, true, math.NaN(), []string{"15 requests queued"}, "batch cap reported", "no waiting gauge"},
		{"llama.cpp with the slot count reported by the server", func() aggregate.Row {
			r := llamacpp()
			r.BatchCapSource, r.BatchCapVerified = aggregate.CapFromExperiment, true
			return r
		}, CodeBatchCap, true, math.NaN(), nil, "", "running ÷ batch cap"},
		{"prefill budget: 96 of 128 waiting on a 1024 cap", func() aggregate.Row {
			r := server(32, 96, 0.3)
			r.BatchCapTotal, r.MaxNumSeqs, r.RunningCapFraction = 1024, 1024, f(32.0/1024)
			r.Users, r.LoadLevel, r.ClientInflightMean = 128, 128, f(128)
			r.IterationBudgetFrac, r.QueueShareOfTTFT = f(0.95), f(0.9)
			return r
		}, CodePrefillBudget, true, 0.95/BudgetFillFraction - 1, []string{"96 of 128 requests in flight waiting"}, "", ""},
		{"users equal to the cap, no queue: more load, not a higher cap", func() aggregate.Row {
			return server(60, 0.2, 0.3)
		}, CodeBatchCap, true, 60.0/64/AtCapFraction - 1, []string{"no standing queue", "measure more load"}, "", ""},
		{"most requests failed in the client", func() aggregate.Row {
			r := server(10, 0, 0.1)
			r.RequestsTotal, r.ClientFailures = 100, f(80)
			return r
		}, CodeLoadGenerator, false, 0.8/ClientFailureFraction - 1, []string{"failed for the client's own reasons"}, "", ""},
		{"idle server, margin of the closest evidence", func() aggregate.Row { return server(10, 0.3, 0.1) },
			CodeNotSaturated, false, 1 - 0.3/(QueueInflightFraction*10.3), nil, "", ""}, // threshold: a tenth of 10.3 in flight
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := tc.row()
			d := Experiment(&r)
			v := d.Verdict
			if v.Code != tc.want || d.Saturated != tc.saturated {
				t.Fatalf("verdict %s (saturated %v), want %s (%v): %s", v.Code, d.Saturated, tc.want, tc.saturated, v.Sentence)
			}
			if !math.IsNaN(tc.margin) && math.Abs(margin(v)-tc.margin) > 1e-9 {
				t.Errorf("margin %v, want %v", margin(v), tc.margin)
			}
			for _, s := range tc.sentence {
				if !strings.Contains(v.Sentence, s) {
					t.Errorf("sentence lacks %q: %s", s, v.Sentence)
				}
			}
			if tc.missing != "" && !strings.Contains(strings.Join(v.Missing, ";"), tc.missing) {
				t.Errorf("missing %v, want %q among them", v.Missing, tc.missing)
			}
			if tc.missing == "" && strings.Contains(strings.Join(v.Missing, ";"), "batch cap reported") {
				t.Errorf("missing %v names the batch cap, which is known", v.Missing)
			}
			found := tc.evidenceIn == ""
			for _, e := range v.Evidence {
				found = found || strings.Contains(e.Name, tc.evidenceIn)
				if e.Value != nil && e.Margin == nil && !strings.Contains(e.Threshold, "0") {
					t.Errorf("evidence %s has a value but no margin", e)
				}
			}
			if !found {
				t.Errorf("no evidence named %q in %v", tc.evidenceIn, v.Evidence)
			}
		})
	}
}

// TestCloseRulesNamed: a verdict that wins by rule order over a neighbour that nearly cleared
// (or cleared) its thresholds names it with its margin.
func TestCloseRulesNamed(t *testing.T) {
	t.Parallel()
	r := server(32, 96, 0.96) // KV 1 % past KVFullFraction, batch at half its cap
	r.BatchCapTotal, r.MaxNumSeqs, r.RunningCapFraction = 1024, 1024, f(32.0/1024)
	r.Users, r.LoadLevel, r.ClientInflightMean = 128, 128, f(128)
	r.IterationBudgetFrac, r.QueueShareOfTTFT = f(0.95), f(0.9)
	d := Experiment(&r)
	v := d.Verdict
	if v.Code != CodeKVCache || !strings.Contains(strings.Join(v.Close, ";"), CodePrefillBudget+" (+") {
		t.Fatalf("verdict %s close %v: want kv_cache with prefill_budget named", v.Code, v.Close)
	}
	if !strings.Contains(v.Sentence, "held by +1%") || !strings.Contains(v.Sentence, CodePrefillBudget) {
		t.Errorf("sentence does not give both margins: %s", v.Sentence)
	}
	// KV at 0.90, 5 % short of its threshold: still named as close beside prefill_budget
	r.KVCacheUsageMaxEngine = f(0.9025)
	v = Experiment(&r).Verdict
	if v.Code != CodePrefillBudget || !strings.Contains(strings.Join(v.Close, ";"), CodeKVCache+" (−5%)") {
		t.Errorf("verdict %s close %v: want prefill_budget with kv_cache (−5%%)", v.Code, v.Close)
	}
	// KV far from full: nothing close
	r.KVCacheUsageMaxEngine = f(0.3)
	if v = Experiment(&r).Verdict; len(v.Close) != 0 {
		t.Errorf("close %v, want none", v.Close)
	}
}

func TestContendedHostIsSuspect(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cpu, steal float64
		suspect    bool
	}{{0.95, 0, true}, {0.5, 0.1, true}, {0.5, 0.01, false}, {math.NaN(), math.NaN(), false}} {
		r := server(60, 20, 0.3)
		r.HostCPUUtil, r.HostSteal = f(tc.cpu), f(tc.steal)
		d := Experiment(&r)
		if (d.Suspect != "") != tc.suspect || (tc.suspect && !strings.Contains(d.Verdict.Sentence, "contended")) {
			t.Errorf("cpu %v steal %v: suspect %q, want %v", tc.cpu, tc.steal, d.Suspect, tc.suspect)
		}
	}
}

// TestSuperLinearAndErratic: a super-linear step is a capacity effect when the smaller
// configuration was starved and the larger not, else a suspect measurement; repeats that
// disagree are suspect.
func TestSuperLinearAndErratic(t *testing.T) {
	t.Parallel()
	n := []int{1, 2}
	starved := server(40, 30, 0.99)
	starved.PreemptionsPerRequest = f(0.2)
	fed := server(64, 40, 0.6)
	tests := []struct {
		name     string
		g1, g2   aggregate.Row
		x        []float64
		repeats  [][]float64
		want     string
		noteAt2  string
		sentence string
	}{
		{"KV-starved 1 GPU", starved, fed, []float64{1000, 2500}, nil, CodeCapacity, "capacity effect: 1 GPU",
			"preempting"},
		{"batch held below its cap with a queue", server(30, 30, 0.8), fed, []float64{1000, 2500}, nil, CodeCapacity,
			"capacity effect", "memory-starved"},
		{"nothing starved", fed, fed, []float64{1000, 2600}, nil, CodeSuspect, "suspect: super-linear", "no capacity"},
		{"repeats disagree", fed, fed, nil, [][]float64{{1000, 1010}, {1500, 1950}}, CodeSuspect, "suspect: repeats disagree",
			"disagree"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rows := map[string]*aggregate.Row{}
			exps := map[string]ExperimentDiagnosis{}
			for i, r := range []aggregate.Row{tc.g1, tc.g2} {
				r.ExpID = fmt.Sprintf("dp-%d", n[i])
				rows[r.ExpID], exps[r.ExpID] = &r, Experiment(&r)
			}
			var fitd scaling.Fit
			if tc.repeats != nil {
				fitd = fittedRepeats(t, n, tc.repeats)
			} else {
				fitd = fitted(t, scaling.StrategyDP, n, tc.x)
			}
			d := Series(fitd, []scaling.Fit{fitd}, exps, rows)
			if d.Verdict.Code != tc.want || !strings.HasPrefix(d.PointNotes[2], tc.noteAt2) ||
				!strings.Contains(d.Verdict.Sentence, tc.sentence) {
				t.Errorf("verdict %s notes %v, want %s with note %q: %s", d.Verdict.Code, d.PointNotes, tc.want, tc.noteAt2, d.Verdict.Sentence)
			}
		})
	}
}

func fittedRepeats(t *testing.T, n []int, x [][]float64) scaling.Fit {
	t.Helper()
	s := scaling.Series{Name: "dp", Strategy: scaling.StrategyDP, Grow: "dp", Prompts: "p", MaxTokens: 8}
	for i := range n {
		for k, v := range x[i] {
			s.Points = append(s.Points, scaling.Point{GPUs: n[i], Repeat: k + 1, Throughput: v,
				ExpID: fmt.Sprintf("dp-%d", n[i]), Saturated: true})
		}
	}
	return scaling.FitAll([]scaling.Series{s}, scaling.Options{})[0]
}

// TestFlatOnlyWhenFlat: a series whose top point never saturated is not_saturated, and its
// sentence calls the speed-up flat only when it is (issue 12: "flat" for a 2.0× speed-up).
func TestFlatOnlyWhenFlat(t *testing.T) {
	t.Parallel()
	rows := map[string]*aggregate.Row{}
	exps := map[string]ExperimentDiagnosis{}
	for _, g := range []int{1, 2} {
		r := server(64, 100, 0.2)
		r.ExpID = fmt.Sprintf("dp-%d", g)
		rows[r.ExpID], exps[r.ExpID] = &r, Experiment(&r)
	}
	for _, tc := range []struct {
		x    []float64
		flat bool
	}{{[]float64{500, 1000}, false}, {[]float64{500, 520}, true}} {
		f := fitted(t, scaling.StrategyDP, []int{1, 2}, tc.x)
		f.Series.Points[1].Saturated = false
		d := Series(f, []scaling.Fit{f}, exps, rows)
		if d.Verdict.Code != CodeNotSaturated || strings.Contains(d.Verdict.Sentence, "flat") != tc.flat {
			t.Errorf("%v: %s, flat %v wanted: %s", tc.x, d.Verdict.Code, tc.flat, d.Verdict.Sentence)
		}
	}
}

// TestUnknownEngineMetrics: metrics recorded but none the rules read is said so, not "no
// server metrics".
func TestUnknownEngineMetrics(t *testing.T) {
	t.Parallel()
	r := aggregate.Row{ExpID: "e", Status: results.StatusDone, ServerMetricsFiles: 1, SendLagP99: f(0.1)}
	if d := Experiment(&r); d.Verdict.Code != CodeUnknown || !strings.Contains(d.Verdict.Sentence, "gave no requests-running gauge") {
		t.Errorf("%s: %s", d.Verdict.Code, d.Verdict.Sentence)
	}
}

// TestContendedHostSeries: a sub-linear DP series whose 2-GPU point ran on a contended host (the
// llama.cpp CPU campaign: two replicas and the client on two cores) is a suspect measurement
// citing the host, not "unknown"; the same series on a quiet host is not called suspect.
func TestContendedHostSeries(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cpu  float64
		want bool
	}{{0.97, true}, {0.4, false}} {
		rows := map[string]*aggregate.Row{}
		exps := map[string]ExperimentDiagnosis{}
		for _, g := range []int{1, 2} {
			r := server(60, 20, 0.3)
			r.ExpID = fmt.Sprintf("dp-%d", g)
			if g == 2 {
				r.HostCPUUtil = f(tc.cpu)
			}
			rows[r.ExpID], exps[r.ExpID] = &r, Experiment(&r)
		}
		fit := fitted(t, scaling.StrategyDP, []int{1, 2}, []float64{1800, 1900})
		d := Series(fit, []scaling.Fit{fit}, exps, rows)
		got := d.Verdict.Code == CodeSuspect && strings.Contains(d.Verdict.Sentence, "host was contended at 2 GPUs")
		if got != tc.want {
			t.Errorf("host CPU %v at 2 GPUs: %s: %s", tc.cpu, d.Verdict.Code, d.Verdict.Sentence)
		}
	}
}

// TestSeriesMarginsAndCloseRules: series verdicts carry the margin of their decisive
// evidence, and the later rules that held too are named with theirs.
func TestSeriesMarginsAndCloseRules(t *testing.T) {
	t.Parallel()
	n := []int{1, 2, 4, 8}
	rows := map[string]*aggregate.Row{}
	exps := map[string]ExperimentDiagnosis{}
	for _, s := range []string{scaling.StrategyTP, scaling.StrategyDP} {
		for _, g := range n {
			r := server(64, 100, 0.2) // at the batch cap (+11 %) with a queue
			r.ExpID = fmt.Sprintf("%s-%d", s, g)
			rows[r.ExpID], exps[r.ExpID] = &r, Experiment(&r)
		}
	}
	tp := fitted(t, scaling.StrategyTP, n, []float64{1000, 1500, 1900, 2100})
	dp := fitted(t, scaling.StrategyDP, n, []float64{1000, 1990, 3950, 7800})
	all := []scaling.Fit{tp, dp}
	// A TP series a little worse than a sub-linear DP one: 92.6 % of it at 8 GPUs, 2.9 % short
	// of the TP-communication rule's ≤ 90 %.
	nearTP := fitted(t, scaling.StrategyTP, n, []float64{1000, 1800, 3400, 6300})
	slowDP := fitted(t, scaling.StrategyDP, n, []float64{1000, 1900, 3600, 6800})
	tests := []struct {
		name       string
		f          scaling.Fit
		all        []scaling.Fit
		code       string
		margin     float64 // the verdict's
		close      []string
		inSentence string
	}{
		// TP reaches 2100/7800 = 27 % of DP at 8 GPUs against ≤ 90 %: margin (0.9 − 0.269)/0.9.
		{"tp worse than dp, batch cap too", tp, all, CodeTPComm, (0.9 - 2100.0/7800) / 0.9, []string{"batch_cap (+11%)"},
			"per layer over the interconnect"},
		// 7800/8000 = 97.5 % efficiency against ≥ 90 %.
		{"near-linear dp", dp, all, CodeNearLinear, (7800.0/8000 - 0.9) / 0.9, nil, ""},
		// The batch cap of the TP replica explains it; TP against DP nearly did, and is named.
		{"tp a little worse than dp", nearTP, []scaling.Fit{nearTP, slowDP}, CodeBatchCap, 1/AtCapFraction - 1,
			[]string{"tp_communication (−3%)"}, "max-num-seqs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := Series(tt.f, tt.all, exps, rows).Verdict
			if v.Code != tt.code {
				t.Fatalf("verdict %s, want %s: %s", v.Code, tt.code, v.Sentence)
			}
			if v.Margin == nil || math.Abs(*v.Margin-tt.margin) > 1e-3 {
				t.Errorf("margin %v, want %.4f", v.Margin, tt.margin)
			}
			if strings.Join(v.Close, ";") != strings.Join(tt.close, ";") {
				t.Errorf("close %q, want %q", v.Close, tt.close)
			}
			if !strings.Contains(v.Sentence, tt.inSentence) {
				t.Errorf("sentence %q lacks %q", v.Sentence, tt.inSentence)
			}
		})
	}
}

// TestAPIServerNeedsRequestsOutside: half of the requests in flight outside the engines is no
// API-server limit when that half is one request: the rule misses, and its margin says by
// how much (the count's, −50 %), not the share's +100 %.
func TestAPIServerNeedsRequestsOutside(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		outside float64
		holds   bool
		margin  float64
	}{
		{"one request outside", 1, false, (1 - OutsideEngineMinRequests) / OutsideEngineMinRequests},
		{"three requests outside", 3, true, (3 - OutsideEngineMinRequests) / OutsideEngineMinRequests}, // +50 % < the share's +100 %
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := server(2, 0, 0.1)
			r.ClientInflightMean, r.OutsideEngineInflight = f(2*tt.outside), f(tt.outside)
			o := factsOf(&r).apiServer()
			if o.holds != tt.holds || math.Abs(o.margin-tt.margin) > 1e-9 {
				t.Errorf("holds %v margin %v, want %v %v: %v", o.holds, o.margin, tt.holds, tt.margin, o.evidence)
			}
		})
	}
}
