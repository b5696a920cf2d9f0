package analysis

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/llmscale/llmscale/internal/diagnose"
	"github.com/llmscale/llmscale/internal/loadgen"
	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/scaling"
	"github.com/llmscale/llmscale/internal/sim"
)

// long gives a load a window long enough for a 70B model's prefills and decodes.
func long(c loadgen.Config) loadgen.Config {
	c.Warmup, c.RunTime = 10*time.Second, 20*time.Second
	return c
}

// TestSeriesVerdictsFromTheSimulator: for each series verdict, simulator configurations that
// produce it, run as virtual campaigns, then aggregated, fitted and diagnosed by Run.
func TestSeriesVerdictsFromTheSimulator(t *testing.T) {
	t.Parallel()
	slowAPI := sim.Costs{OutputToken: 250 * time.Microsecond}
	tests := []struct {
		name string
		exps []vexp
		want map[string]string // series name prefix → verdict
	}{
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
	}
	for _, tt := range tests {
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
			got := map[string]string{}
			for _, s := range res.Diagnosis.Series {
				t.Logf("%s: %s — %s", s.Series, s.Verdict.Code, s.Verdict.Sentence)
				got[strings.Split(s.Series, " ")[0]] = s.Verdict.Code
			}
			for prefix, want := range tt.want {
				if got[prefix] != want {
					t.Errorf("%s series: verdict %q, want %q (all: %v)", prefix, got[prefix], want, got)
				}
				if want == diagnose.CodeCapacity {
					checkCapacityNote(t, root)
				}
			}
		})
	}
}

func withTP(c sim.Config, tp int) sim.Config {
	c.TP = tp
	return c
}

// checkCapacityNote: the fit files mark the super-linear point as a capacity effect.
func checkCapacityNote(t *testing.T, root string) {
	t.Helper()
	rows, err := results.ReadParquet[scaling.ScalingRow](filepath.Join(root, results.AggDir, ScalingFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if strings.HasPrefix(r.PointNote, "capacity effect") {
			return
		}
	}
	t.Errorf("no point of %s marked as a capacity effect", ScalingFile)
}
