package analysis

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/llmscale/llmscale/internal/diagnose"
	"github.com/llmscale/llmscale/internal/loadgen"
	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/scaling"
	"github.com/llmscale/llmscale/internal/sim"
)

// long gives a load a window long enough for a 70B model's prefills and decodes.
func long(c loadgen.Config) loadgen.Config {
	c.Warmup, c.RunTime = 10*time.Second, 20*time.Second
	return c
}

// seriesCase is a campaign of simulator configurations whose series must get given verdicts.
type seriesCase struct {
	name string
	exps []vexp
	want map[string]string // series name prefix → verdict
}

// seriesCases gives, for each series verdict of docs/analysis.md, simulator configurations
// that produce it (TestEveryVerdictHasASimulatorConfig checks the list).
func seriesCases(t *testing.T) []seriesCase {
	slowAPI := sim.Costs{OutputToken: 250 * time.Microsecond}
	pcie := func(c sim.Config) sim.Config { c.Interconnect = "pcie"; return c }
	inflightCap := loadgen.Config{Load: loadspec.Load{Intensity: loadspec.Intensity{Mode: loadspec.ModeRate, Rate: 100}, MaxInflight: 2}}
	b200 := sim.Config{GPU: "b200", ModelProfile: "llama-3-70b", MaxNumSeqs: 256}
	return []seriesCase{
		{"pcie-tp-vs-dp", []vexp{
			{id: "G1", sim: sim.Config{MaxNumSeqs: 8, Interconnect: "pcie"}, load: users(24)},
			{id: "G2-TP2", sim: sim.Config{TP: 2, MaxNumSeqs: 8, Interconnect: "pcie"}, load: users(24)},
			{id: "G2-DP2", sim: sim.Config{DP: 2, MaxNumSeqs: 8, Interconnect: "pcie"}, load: users(24)},
		}, map[string]string{"TP-only": diagnose.CodeTPComm, "DP-only": diagnose.CodeNearLinear}},
		{"one-api-server-many-ranks", []vexp{
			{id: "G1", sim: sim.Config{MaxNumSeqs: 64, Costs: slowAPI}, load: users(256)},
			{id: "G2", sim: sim.Config{DP: 2, MaxNumSeqs: 64, Costs: slowAPI}, load: users(256)},
			{id: "G4", sim: sim.Config{DP: 4, MaxNumSeqs: 64, Costs: slowAPI}, load: users(256)},
		}, map[string]string{"DP-only": diagnose.CodeAPIServer}},
		// 70B on H100s: at TP 2 the weights leave about 26,000 tokens of KV cache, which a batch
		// of 64 sequences of 1024 + 512 tokens overflows many times (preemptions, KV full);
		// TP 4 holds 480,000 and runs at its batch cap with a queue. The step from 2 to 4 GPUs
		// is super-linear, and the smaller configuration's starvation explains it.
		{"kv-starved-tp2", []vexp{
			{id: "G2", sim: sim.Config{TP: 2, ModelProfile: "llama-3-70b", MaxNumSeqs: 64}, load: long(withTokens(users(96), 512)), prompt: 1024},
			{id: "G4", sim: sim.Config{TP: 4, ModelProfile: "llama-3-70b", MaxNumSeqs: 64}, load: long(withTokens(users(96), 512)), prompt: 1024},
		}, map[string]string{"TP-only": diagnose.CodeCapacity}},
		{"kv-starved-1-gpu", []vexp{ // TP 2 holds every sequence that TP 1 had to preempt: a capacity effect
			{id: "G1", sim: kvConfig(t, 4096), load: withTokens(users(32), 256), prompt: 256},
			{id: "G2-TP2", sim: withTP(kvConfig(t, 4096), 2), load: withTokens(users(32), 256), prompt: 256},
		}, map[string]string{"TP-only": diagnose.CodeCapacity}},
		{"too-few-users", []vexp{
			{id: "G1", sim: sim.Config{MaxNumSeqs: 64}, load: users(4)},
			{id: "G2", sim: sim.Config{DP: 2, MaxNumSeqs: 64}, load: users(4)},
		}, map[string]string{"DP-only": diagnose.CodeNotSaturated}},
		{"in-flight-cap", []vexp{ // the client holds requests back at every point: the series measures it
			{id: "G1", sim: sim.Config{MaxNumSeqs: 64}, load: inflightCap},
			{id: "G2", sim: sim.Config{DP: 2, MaxNumSeqs: 64}, load: inflightCap},
		}, map[string]string{"DP-only": diagnose.CodeLoadGenerator}},
		// The 1-GPU server ran on a host slowed to half speed (--speedup 0.5), at its batch cap
		// with a queue like the 2-GPU one: 4× the throughput from 2× the GPUs, and nothing
		// starved at 1 GPU to explain it.
		{"slow-host-at-1-gpu", []vexp{
			{id: "G1", sim: sim.Config{MaxNumSeqs: 8, Speedup: 0.5}, load: users(32)},
			{id: "G2", sim: sim.Config{DP: 2, MaxNumSeqs: 8}, load: users(32)},
		}, map[string]string{"DP-only": diagnose.CodeSuspect}},
		// Two repeats at 1 GPU, the second on a host 50 % faster: their throughputs spread by
		// about a third of their mean, and the step to 2 GPUs is not super-linear.
		{"repeats-disagree", []vexp{
			{id: "G1-r1", sim: sim.Config{MaxNumSeqs: 8}, load: users(32)},
			{id: "G1-r2", sim: sim.Config{MaxNumSeqs: 8, Speedup: 1.5}, load: users(32), repeat: 2},
			{id: "G2", sim: sim.Config{DP: 2, MaxNumSeqs: 8}, load: users(32)},
		}, map[string]string{"DP-only": diagnose.CodeSuspect}},
		// 70B on B200s, one per rank: near-linear, and the simulated GPUs are busy at the top.
		{"busy-b200s", []vexp{
			{id: "G1", sim: b200, load: users(32), simGPUs: true},
			{id: "G2", sim: withDP(b200, 2), load: users(64), simGPUs: true},
		}, map[string]string{"DP-only": diagnose.CodeGPUBound}},
		// TP over PCIe with a batch cap of 4: TP 2 runs each step faster but still 4 sequences.
		{"tp-batch-cap", []vexp{
			{id: "G1", sim: pcie(sim.Config{MaxNumSeqs: 4}), load: users(32)},
			{id: "G2", sim: pcie(sim.Config{TP: 2, MaxNumSeqs: 4}), load: users(32)},
		}, map[string]string{"TP-only": diagnose.CodeBatchCap}},
		// Both points hold about 4,096 tokens of KV cache (TP 2 with less memory per GPU):
		// both preempt, and TP 2 gains only its faster steps.
		{"tp-kv-cache", []vexp{
			{id: "G1", sim: pcie(kvConfig(t, 4096)), load: withTokens(users(32), 256), prompt: 256},
			{id: "G2", sim: pcie(kvConfigTP(t, 4096, 2)), load: withTokens(users(32), 256), prompt: 256},
		}, map[string]string{"TP-only": diagnose.CodeKVCache}},
		// Long prompts on a 256-token budget at both points.
		{"tp-prefill-budget", []vexp{
			{id: "G1", sim: pcie(sim.Config{MaxNumSeqs: 64, MaxNumBatchedTokens: 256}), load: withTokens(users(16), 4), prompt: 2000},
			{id: "G2", sim: pcie(sim.Config{TP: 2, MaxNumSeqs: 64, MaxNumBatchedTokens: 256}), load: withTokens(users(16), 4), prompt: 2000},
		}, map[string]string{"TP-only": diagnose.CodePrefillBudget}},
		// No /metrics recorded: two load levels at each point show a plateau (saturated), but
		// nothing says what limited the top point.
		{"no-server-metrics", []vexp{
			{id: "G1-u8", sim: pcie(sim.Config{MaxNumSeqs: 4}), load: users(8), noScrape: true},
			{id: "G1-u32", sim: pcie(sim.Config{MaxNumSeqs: 4}), load: users(32), noScrape: true},
			{id: "G2-u8", sim: pcie(sim.Config{TP: 2, MaxNumSeqs: 4}), load: users(8), noScrape: true},
			{id: "G2-u32", sim: pcie(sim.Config{TP: 2, MaxNumSeqs: 4}), load: users(32), noScrape: true},
		}, map[string]string{"TP-only": diagnose.CodeUnknown}},
	}
}

// TestSeriesVerdictsFromTheSimulator: for each series verdict, simulator configurations that
// produce it, run as virtual campaigns, then aggregated, fitted and diagnosed by Run.
func TestSeriesVerdictsFromTheSimulator(t *testing.T) {
	t.Parallel()
	for _, tt := range seriesCases(t) {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			for _, v := range tt.exps {
				v.id = tt.name + "_" + v.id
				runVirtual(t, root, v)
			}
			res, err := Run(Options{Results: root})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]diagnose.SeriesDiagnosis{}
			for _, s := range res.Diagnosis.Series {
				t.Logf("%s: %s — %s", s.Series, s.Verdict.Code, s.Verdict.Sentence)
				got[strings.Split(s.Series, " ")[0]] = s
			}
			for prefix, want := range tt.want {
				v := got[prefix].Verdict
				if v.Code != want {
					t.Errorf("%s series: verdict %q, want %q\nevidence: %v", prefix, v.Code, want, v.Evidence)
				}
				checkMargins(t, v)
				switch want {
				case diagnose.CodeCapacity:
					checkPointNote(t, root, "capacity effect")
				case diagnose.CodeSuspect:
					checkPointNote(t, root, "suspect")
				}
			}
		})
	}
}

func withTP(c sim.Config, tp int) sim.Config {
	c.TP = tp
	return c
}

func withDP(c sim.Config, dp int) sim.Config {
	c.DP = dp
	return c
}

// checkPointNote: the fit files mark a point with a note that starts with prefix.
func checkPointNote(t *testing.T, root, prefix string) {
	t.Helper()
	rows, err := results.ReadParquet[scaling.ScalingRow](filepath.Join(root, results.AggDir, ScalingFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if strings.HasPrefix(r.PointNote, prefix) {
			return
		}
	}
	t.Errorf("no point of %s has a note %q…", ScalingFile, prefix)
}
