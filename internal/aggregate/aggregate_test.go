package aggregate

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/results"
)

const ms = int64(time.Millisecond)

// windowExperiment is an experiment.json with a 1 s warm-up, a 2 s window, SLOs on TTFT
// (150 ms) and TPOT (200 ms).
func windowExperiment(id string) results.Experiment {
	from := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return results.Experiment{ID: id, Campaign: "c", Repeat: 2, Status: results.StatusDone,
		Factors:     map[string]string{"gpus": "2", "tp": "2", "dp": "1", "users": "8", "think": "1s"},
		Server:      results.ServerInfo{ID: "G2_TP2_DP1", Engine: "sim", Model: "m", GPUs: 2, TP: 2, DP: 1, PP: 1, BatchSize: 16},
		Load:        results.LoadInfo{Intensity: loadspec.Intensity{Mode: loadspec.Mode("users"), Users: 8}, Prompts: "short", MaxTokens: 4, API: "completions", Workers: 1, WarmupNs: 1000 * ms, RunTimeNs: 2000 * ms, CooldownNs: 500 * ms, SLOTTFTNs: 150 * ms, SLOTPOTNs: 200 * ms},
		MeasureFrom: from, MeasureTo: from.Add(2 * time.Second), Telemetry: []string{"gpu: no GPU here"}}
}

// ok is a request that succeeded: sent at sent, first token ttft later, done e2e after sent,
// with the given chunk gaps (ms) and one token per chunk.
func ok(seq int64, sent, ttft, e2e int64, out, prompt int32, itl ...int64) results.Request {
	r := results.Request{Seq: seq, DueNs: sent*ms - ms, SentNs: sent * ms, FirstTokenNs: (sent + ttft) * ms,
		DoneNs: (sent + e2e) * ms, EndNs: (sent+e2e)*ms + ms, TTFTNs: ttft * ms, E2ENs: e2e * ms,
		OutputTokens: out, PromptTokens: prompt, Chunks: out, HTTPStatus: 200, TokensFromUsage: true}
	if out > 1 {
		r.TPOTNs = (e2e - ttft) * ms / int64(out-1)
	}
	for _, g := range itl {
		r.ITLNs = append(r.ITLNs, g*ms)
	}
	for range out {
		r.ChunkTokens = append(r.ChunkTokens, 1)
	}
	return r
}

func failed(seq int64, sent, end int64, kind string, status int32) results.Request {
	return results.Request{Seq: seq, DueNs: sent*ms - ms, SentNs: sent * ms, EndNs: end * ms, ErrorKind: kind, HTTPStatus: status,
		Error: kind}
}

// handRows are requests around a window [1000 ms, 3000 ms): one in the warm-up and one in the
// cool-down (excluded), three that succeeded and two that failed inside it, one never sent.
func handRows() []results.Request {
	lagged := failed(6, 1200, 2900, results.ErrorTimeout, 0)
	lagged.DueNs = 1180 * ms // sent 20 ms late
	rows := []results.Request{
		ok(1, 100, 50, 400, 4, 10, 100, 100, 100),   // ends at 501 ms: warm-up
		ok(2, 1000, 100, 400, 4, 10, 100, 100, 100), // TTFT 100, TPOT 100, E2E 400
		ok(3, 1500, 200, 1000, 3, 20, 300, 500),     // TTFT 200, TPOT 400, E2E 1000
		ok(4, 2000, 50, 50, 1, 5),                   // one token: no TPOT
		failed(5, 2300, 2500, results.ErrorHTTP, 503),
		lagged,
		ok(7, 2800, 100, 399, 4, 10, 100, 100, 99), // ends at 3200 ms: cool-down
		{Seq: 8, DueNs: 2900 * ms, EndNs: 3000 * ms, ErrorKind: results.ErrorNotSent},
	}
	for i := range rows {
		rows[i].Phase = results.PhaseMeasure
		switch {
		case rows[i].EndNs < 1000*ms:
			rows[i].Phase = results.PhaseWarmup
		case rows[i].EndNs >= 3000*ms:
			rows[i].Phase = results.PhaseCooldown
		}
	}
	return rows
}

func writeExperiment(t *testing.T, root string, e results.Experiment, files map[string][]results.Request) string {
	t.Helper()
	dir := results.Dir(root, e.ID)
	if err := results.WriteExperiment(dir, e); err != nil {
		t.Fatal(err)
	}
	for name, rows := range files {
		if err := results.WriteParquet(filepath.Join(dir, name), rows); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

// TestDefinitions checks every client-side figure of one experiment against values computed by
// hand from handRows (numpy's linear percentiles, vLLM's definitions).
func TestDefinitions(t *testing.T) {
	t.Parallel()
	dir := writeExperiment(t, t.TempDir(), windowExperiment("e1"), map[string][]results.Request{"requests.parquet": handRows()})
	r, err := Experiment(dir, TreeInfo{})
	if err != nil {
		t.Fatal(err)
	}
	ints := []struct {
		name      string
		got, want int64
	}{
		{"requests_total", r.RequestsTotal, 8}, {"sent", r.Sent, 7}, {"not_sent", r.NotSent, 1},
		{"completed", r.Completed, 3}, {"failed", r.Failed, 2}, {"failed_http", r.FailedHTTP, 1},
		{"failed_timeout", r.FailedTimeout, 1}, {"failed_other", r.FailedOther, 0},
		{"prompt_tokens", r.PromptTokens, 35}, {"output_tokens", r.OutputTokens, 8}, {"repeat", r.Repeat, 2},
		{"gpus", r.GPUs, 2}, {"tp", r.TP, 2}, {"users", r.Users, 8}, {"request_files", r.RequestFiles, 1},
	}
	for _, c := range ints {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	floats := []struct {
		name string
		got  *float64
		want float64
	}{
		{"duration_s", &r.DurationS, 2},
		{"request_throughput_rps", r.RequestThroughput, 1.5}, // 3 completed / 2 s
		{"output_throughput_tps", r.OutputThroughput, 4},     // 8 tokens / 2 s
		{"total_throughput_tps", r.TotalThroughput, 21.5},    // (35 + 8) / 2 s
		{"output_throughput_per_gpu_tps", r.OutputPerGPU, 2},
		{"ttft_ms_mean", r.TTFTMean, 350.0 / 3}, {"ttft_ms_p50", r.TTFTP50, 100},
		{"ttft_ms_p90", r.TTFTP90, 180}, {"ttft_ms_p95", r.TTFTP95, 190}, {"ttft_ms_p99", r.TTFTP99, 198},
		{"ttft_ms_max", r.TTFTMax, 200},
		{"tpot_ms_mean", r.TPOTMean, 250}, {"tpot_ms_p50", r.TPOTP50, 250}, {"tpot_ms_p90", r.TPOTP90, 370},
		{"itl_ms_mean", r.ITLMean, 220}, {"itl_ms_p50", r.ITLP50, 100}, {"itl_ms_p90", r.ITLP90, 420},
		{"token_itl_ms_mean", r.TokenITLMean, 220},
		{"e2e_ms_mean", r.E2EMean, 1450.0 / 3}, {"e2e_ms_p50", r.E2EP50, 400}, {"e2e_ms_p99", r.E2EP99, 988},
		{"e2e_from_due_ms_mean", r.E2EFromDueMean, 1450.0/3 + 1},
		{"send_lag_ms_mean", r.SendLagMean, 25.0 / 6}, {"send_lag_ms_p99", r.SendLagP99, 19.05},
		{"goodput_rps", r.Goodput, 1}, // requests 2 and 4 meet TTFT ≤ 150 and TPOT ≤ 200
		{"goodput_fraction", r.GoodputFraction, 0.4},
		{"tokens_per_user_tps", r.TokensPerUser, 6.25}, // mean of 3/0.3 s and 2/0.8 s
		// In flight inside [1000, 3000): 401 + 1001 + 51 + 200 + 1700 + 200 ms over 2 s.
		{"client_inflight_mean", r.ClientInflightMean, 1.7765},
		{"slo_ttft_ms", r.SLOTTFTms, 150},
	}
	for _, c := range floats {
		if c.got == nil || !near(*c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, show(c.got), c.want)
		}
	}
	if r.Failures != "http_503=1;timeout=1" || r.Status != results.StatusDone || r.ExtraFactors != "think=1s" {
		t.Errorf("failures %q, status %q, extra factors %q", r.Failures, r.Status, r.ExtraFactors)
	}
	if r.SLOE2Ems != nil || r.ScheduledRate != nil || r.RunningMean != nil || r.GPUTelemetry != "absent: no GPU here" {
		t.Errorf("columns without a source are set: e2e SLO %v, scheduled rate %v, running %v, gpu %q",
			show(r.SLOE2Ems), show(r.ScheduledRate), show(r.RunningMean), r.GPUTelemetry)
	}
}

func show(p *float64) any {
	if p == nil {
		return "null"
	}
	return *p
}

// TestWorkersMerge: the same requests split over two workers' files give the same row.
func TestWorkersMerge(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	rows := handRows()
	one := writeExperiment(t, root, windowExperiment("one"), map[string][]results.Request{"requests.parquet": rows})
	e := windowExperiment("two")
	e.Load.Workers = 2
	var w0, w1 []results.Request
	for i, r := range rows {
		r.WorkerID = int32(i % 2)
		if i%2 == 0 {
			w0 = append(w0, r)
		} else {
			w1 = append(w1, r)
		}
	}
	two := writeExperiment(t, root, e, map[string][]results.Request{"requests-0.parquet": w0, "requests-1.parquet": w1})
	a, err := Experiment(one, TreeInfo{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Experiment(two, TreeInfo{})
	if err != nil {
		t.Fatal(err)
	}
	if b.RequestFiles != 2 || b.Workers != 2 {
		t.Errorf("request files %d, workers %d, want 2 and 2", b.RequestFiles, b.Workers)
	}
	a.ExpID, a.RequestFiles, a.Workers = b.ExpID, b.RequestFiles, b.Workers
	if diff := cmp.Diff(a, b, cmpopts.EquateNaNs()); diff != "" {
		t.Errorf("two workers' files differ from one file (-one +two):\n%s", diff)
	}
	// A third worker's file missing: the experiment is not measured whole.
	e.ID, e.Load.Workers = "three", 3
	three := writeExperiment(t, root, e, map[string][]results.Request{"requests-0.parquet": w0, "requests-1.parquet": w1})
	c, err := Experiment(three, TreeInfo{})
	if err == nil || c.Status != StatusError || !strings.Contains(c.FailureReason, "2 of 3 load workers") {
		t.Errorf("missing worker file: status %q, reason %q, err %v", c.Status, c.FailureReason, err)
	}
}

// TestBrokenFiles: corrupted and partial raw files give a clear error for their experiment,
// and the other experiments are aggregated.
func TestBrokenFiles(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	good := map[string][]results.Request{"requests.parquet": handRows()}
	writeExperiment(t, root, windowExperiment("a-good"), good)
	bad := writeExperiment(t, root, windowExperiment("b-garbage-requests"), nil)
	os.WriteFile(filepath.Join(bad, "requests.parquet"), []byte("PAR1 this is not parquet"), 0o644)
	trunc := writeExperiment(t, root, windowExperiment("c-truncated-metrics"), good)
	truncate(t, filepath.Join(trunc, results.ServerMetricsFile), serverRows(t))
	writeExperiment(t, root, windowExperiment("d-missing-requests"), nil)
	js := writeExperiment(t, root, windowExperiment("e-bad-json"), good)
	os.WriteFile(filepath.Join(js, results.ExperimentFile), []byte(`{"exp_id": "e-bad-json", "load": {`), 0o644)
	never := windowExperiment("f-never-ran")
	never.Status, never.Reason = results.StatusFailed, "server did not start: boom"
	writeExperiment(t, root, never, nil)

	rows, errs, err := Tree(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 6 {
		t.Fatalf("%d rows, want 6", len(rows))
	}
	want := map[string]struct{ status, inReason, inErr string }{
		"a-good":              {results.StatusDone, "", ""},
		"b-garbage-requests":  {StatusError, "request file unreadable", "requests.parquet"},
		"c-truncated-metrics": {results.StatusDone, "", "server_metrics.parquet unreadable"},
		"d-missing-requests":  {StatusError, "requests.parquet missing", "requests.parquet missing"},
		"e-bad-json":          {StatusError, "experiment.json unreadable", "experiment.json"},
		"f-never-ran":         {results.StatusFailed, "server did not start", ""},
	}
	for _, r := range rows {
		w := want[r.ExpID]
		if r.Status != w.status || !strings.Contains(r.FailureReason, w.inReason) {
			t.Errorf("%s: status %q reason %q, want %q with %q", r.ExpID, r.Status, r.FailureReason, w.status, w.inReason)
		}
		found := w.inErr == ""
		for _, e := range errs {
			if strings.HasPrefix(e.Error(), r.ExpID+":") {
				found = w.inErr != "" && strings.Contains(e.Error(), w.inErr)
				if w.inErr == "" {
					t.Errorf("%s: unexpected error %v", r.ExpID, e)
				}
			}
		}
		if !found {
			t.Errorf("%s: no error naming %q in %v", r.ExpID, w.inErr, errs)
		}
	}
	if len(errs) != 4 {
		t.Errorf("%d errors, want 4: %v", len(errs), errs)
	}
	// The telemetry problem leaves the measurement usable.
	for _, r := range rows {
		if r.ExpID == "c-truncated-metrics" && (r.AggregateError == "" || r.OutputThroughput == nil) {
			t.Errorf("truncated metrics: aggregate_error %q, throughput %v", r.AggregateError, show(r.OutputThroughput))
		}
		if r.ExpID == "a-good" && (r.OutputThroughput == nil || *r.OutputThroughput != 4) {
			t.Errorf("the good experiment: throughput %v", show(r.OutputThroughput))
		}
	}
}

// truncate writes rows to path and cuts the file in half: a partial file.
func truncate(t *testing.T, path string, rows []results.ServerMetric) {
	t.Helper()
	if err := results.WriteParquet(path, rows); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestClientCPU: the workers' own summaries, not the merged one beside them, give the client's
// CPU; the busiest worker's share of its cores is the evidence.
func TestClientCPU(t *testing.T) {
	t.Parallel()
	dir := writeExperiment(t, t.TempDir(), windowExperiment("cpu"), map[string][]results.Request{"requests.parquet": handRows()})
	for name, doc := range map[string]string{
		"summary.json":   `{"worker_id": -1, "client_cores_busy": 99, "client_cores": 2}`,
		"summary-0.json": `{"worker_id": 0, "client_cores_busy": 0.5, "client_cores": 2}`,
		"summary-1.json": `{"worker_id": 1, "client_cores_busy": 1.9, "client_cores": 2}`,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r, err := Experiment(dir, TreeInfo{})
	if err != nil {
		t.Fatal(err)
	}
	if V(r.ClientCPUCores) != 2.4 || V(r.ClientCores) != 4 || V(r.ClientCPUMaxFraction) != 0.95 {
		t.Errorf("client cpu %v of %v cores, busiest %v; want 2.4 of 4, 0.95", show(r.ClientCPUCores), show(r.ClientCores),
			show(r.ClientCPUMaxFraction))
	}
}
