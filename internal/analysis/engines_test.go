package analysis

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmscale/llmscale/internal/aggregate"
	"github.com/llmscale/llmscale/internal/diagnose"
	"github.com/llmscale/llmscale/internal/promscrape"
	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/sim"
)

// asLlamaCpp rewrites a simulator's recorded /metrics rows as llama-server would have
// exposed them: only the families llama.cpp has, under its names, without labels. The
// simulator's own batch-cap info gauge goes too, so the cap is the requested one.
func asLlamaCpp(rows []results.ServerMetric) []results.ServerMetric {
	rename := map[string]string{
		promscrape.MetricRunning:                    "llamacpp:requests_processing",
		promscrape.MetricWaiting:                    "llamacpp:requests_deferred",
		promscrape.MetricPromptTokens:               "llamacpp:prompt_tokens_total",
		promscrape.MetricGenerationTokens:           "llamacpp:tokens_predicted_total",
		promscrape.MetricIterationTokens + "_count": "llamacpp:n_decode_total",
	}
	var out []results.ServerMetric
	for _, r := range rows {
		if strings.HasPrefix(r.Name, "llmscale:scrape") {
			out = append(out, r)
			continue
		}
		name, ok := rename[r.Name]
		if !ok {
			continue
		}
		if r.Type == promscrape.TypeHistogram {
			r.Type = promscrape.TypeCounter
		}
		r.Name, r.OriginalName, r.Labels, r.LabelMap, r.Engine, r.ModelName = name, name, "", nil, "", ""
		out = append(out, r)
	}
	return out
}

// TestLlamaCppEvidenceEndToEnd is issue 12's llama.cpp case through the whole analysis: one
// slot, 16 users, the server's metrics under llama.cpp's names. The verdict must be the batch
// cap (saturated, the requested cap marked unverified), the quantities llama.cpp has must be
// filled and those it lacks null, not 0.
func TestLlamaCppEvidenceEndToEnd(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	v := vexp{id: "llamacpp-1slot-16users", sim: sim.Config{MaxNumSeqs: 1}, load: users(16)}
	dir := runVirtual(t, root, v)
	path := filepath.Join(dir, results.ServerMetricsFile)
	rows, err := results.ReadParquet[results.ServerMetric](path)
	if err != nil {
		t.Fatal(err)
	}
	if err := results.WriteParquet(path, asLlamaCpp(rows)); err != nil {
		t.Fatal(err)
	}
	exp, err := results.ReadExperiment(dir)
	if err != nil {
		t.Fatal(err)
	}
	exp.Server.Engine = "llamacpp"
	if err := results.WriteExperiment(dir, exp); err != nil {
		t.Fatal(err)
	}
	res, err := Run(Options{Results: root})
	if err != nil {
		t.Fatal(err)
	}
	r := res.Rows[0]
	checkLlamaCppRow(t, &r)
	d := res.Diagnosis.Experiments[0]
	t.Logf("%s: %s", d.Verdict.Code, d.Verdict.Sentence)
	if d.Verdict.Code != diagnose.CodeBatchCap || !d.Saturated || !strings.Contains(d.Verdict.Sentence, "--parallel") {
		t.Errorf("verdict %s saturated %v, want batch_cap, saturated, naming --parallel: %s", d.Verdict.Code, d.Saturated, d.Verdict.Sentence)
	}
	if !strings.Contains(strings.Join(d.Verdict.Missing, ";"), "batch cap reported by the server") {
		t.Errorf("missing %v: the requested cap is not marked unverified", d.Verdict.Missing)
	}
}

func checkLlamaCppRow(t *testing.T, r *aggregate.Row) {
	t.Helper()
	if r.ServerMetricsEngine != promscrape.FamilyLlamaCpp || r.BatchCapVerified || r.BatchCapTotal != 1 {
		t.Errorf("engine %q, cap %d verified %v; want llamacpp, 1 unverified", r.ServerMetricsEngine, r.BatchCapTotal, r.BatchCapVerified)
	}
	for name, p := range map[string]*float64{"preemptions": r.Preemptions, "requests_finished_delta": r.RequestsFinishedDelta,
		"kv_cache_usage_max_engine": r.KVCacheUsageMaxEngine, "queue_s_mean": r.QueueSMean, "preemptions_per_request": r.PreemptionsPerRequest} {
		if p != nil {
			t.Errorf("%s = %v, want null (llama.cpp does not export it)", name, *p)
		}
	}
	for name, p := range map[string]*float64{"running_mean": r.RunningMean, "waiting_mean": r.WaitingMean,
		"generation_tokens_delta": r.GenerationTokensDelta, "engine_steps": r.EngineSteps, "iteration_tokens_mean": r.IterationTokensMean} {
		if p == nil {
			t.Errorf("%s is null, want the value from llama.cpp's metrics", name)
		}
	}
	if r.RunningMean != nil && math.Abs(*r.RunningMean-1) > 0.1 {
		t.Errorf("running_mean %v, want the one slot busy", *r.RunningMean)
	}
	if r.WaitingMean != nil && *r.WaitingMean < 12 {
		t.Errorf("waiting_mean %v, want about 15 deferred", *r.WaitingMean)
	}
	if !strings.Contains(r.ServerEvidenceMissing, "preemptions") || !strings.Contains(r.ServerEvidenceMissing, "kv_usage") {
		t.Errorf("server_evidence_missing %q", r.ServerEvidenceMissing)
	}
}
