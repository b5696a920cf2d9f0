package aggregate

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/llmscale/llmscale/internal/promscrape"
	"github.com/llmscale/llmscale/internal/results"
)

// replica describes one server process's metrics over a window of four grid scrapes.
type replica struct {
	running, waiting, kv float64 // gauges, constant over the grid
	generated, finished  float64 // counter increases over the window
	queueSum             float64 // Δ sum of the queue-time histogram (its Δ count is finished)
	maxNumSeqs           int
}

// rows builds the server_metrics rows of one replica with one engine "0".
func (rp replica) rows() []results.ServerMetric {
	var out []results.ServerMetric
	add := func(phase string, seq, at int64, name, typ string, labels map[string]string, v float64) {
		ls := map[string]string{"engine": "0", "model_name": "m"}
		maps.Copy(ls, labels)
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(ls)) {
			parts = append(parts, fmt.Sprintf("%s=%q", k, ls[k]))
		}
		out = append(out, results.ServerMetric{ExpID: "e", Phase: phase, Scrape: seq, TimeUnixNs: at, Name: name, Type: typ,
			Labels: strings.Join(parts, ","), LabelMap: ls, Engine: "0", ModelName: "m", Value: v})
	}
	scrape := func(phase string, seq, at int64, frac float64) {
		add(phase, seq, at, promscrape.MetricScrapeUp, promscrape.TypeGauge, nil, 1)
		add(phase, seq, at, promscrape.MetricRunning, promscrape.TypeGauge, nil, rp.running)
		add(phase, seq, at, promscrape.MetricWaiting, promscrape.TypeGauge, nil, rp.waiting)
		add(phase, seq, at, promscrape.MetricKVCacheUsage, promscrape.TypeGauge, nil, rp.kv)
		add(phase, seq, at, promscrape.MetricGenerationTokens, promscrape.TypeCounter, nil, 1000+frac*rp.generated)
		add(phase, seq, at, promscrape.MetricRequestSuccess, promscrape.TypeCounter, map[string]string{"finished_reason": "length"}, 7+frac*rp.finished)
		add(phase, seq, at, promscrape.MetricQueueTime+"_sum", promscrape.TypeHistogram, nil, 3+frac*rp.queueSum)
		add(phase, seq, at, promscrape.MetricQueueTime+"_count", promscrape.TypeHistogram, nil, 7+frac*rp.finished)
		add(phase, seq, at, promscrape.MetricSchedulerConfigInfo, promscrape.TypeGauge,
			map[string]string{"max_num_seqs": fmt.Sprint(rp.maxNumSeqs), "max_num_batched_tokens": "512"}, 1)
		add(phase, seq, at, metricSimInfo, promscrape.TypeGauge, map[string]string{"interconnect": "pcie", "gpu": "h100-sxm"}, 1)
	}
	scrape(results.PhaseBefore, -1, 0, 0)
	for k := range int64(4) {
		scrape(results.PhaseDuring, k, 100+k*250, float64(k+1)/5)
	}
	scrape(results.PhaseAfter, -1, 1200, 1)
	return out
}

func serverRows(t *testing.T) []results.ServerMetric {
	t.Helper()
	return replica{running: 8, waiting: 2, kv: 0.5, generated: 400, finished: 10, queueSum: 5, maxNumSeqs: 16}.rows()
}

// TestServerMetrics: one file, and two replicas' files merged: counters and histogram deltas
// add up over replicas, gauges sum per scrape, the cap counts every engine.
func TestServerMetrics(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	reqs := map[string][]results.Request{"requests.parquet": handRows()}
	one := writeExperiment(t, root, windowExperiment("one"), reqs)
	if err := results.WriteParquet(filepath.Join(one, results.ServerMetricsFile), serverRows(t)); err != nil {
		t.Fatal(err)
	}
	two := writeExperiment(t, root, windowExperiment("two"), reqs)
	r0 := replica{running: 8, waiting: 2, kv: 0.5, generated: 400, finished: 10, queueSum: 5, maxNumSeqs: 16}
	r1 := replica{running: 4, waiting: 0, kv: 0.9, generated: 200, finished: 6, queueSum: 11, maxNumSeqs: 16}
	for i, rp := range []replica{r0, r1} {
		if err := results.WriteParquet(filepath.Join(two, fmt.Sprintf("server_metrics-r%d.parquet", i)), rp.rows()); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		dir                                                string
		files, engines, cap                                int64
		running, waiting, kvMean, kvMaxEngine, gen, queueS float64
	}{
		{one, 1, 1, 16, 8, 2, 0.5, 0.5, 400, 0.5},
		{two, 2, 2, 32, 12, 2, 0.7, 0.9, 600, 1}, // queue: (5 + 11) / (10 + 6)
	}
	for _, tt := range tests {
		r, err := Experiment(tt.dir, TreeInfo{Interconnect: "nvlink-all"})
		if err != nil {
			t.Fatal(err)
		}
		got := []float64{V(r.RunningMean), V(r.WaitingMean), V(r.KVCacheUsageMean), V(r.KVCacheUsageMaxEngine),
			V(r.GenerationTokensDelta), V(r.QueueSMean)}
		want := []float64{tt.running, tt.waiting, tt.kvMean, tt.kvMaxEngine, tt.gen, tt.queueS}
		for i := range got {
			if !near(got[i], want[i]) {
				t.Errorf("%s: running, waiting, kv mean, kv max, generated, queue = %v, want %v", r.ExpID, got, want)
				break
			}
		}
		if r.ServerMetricsFiles != tt.files || r.Engines != tt.engines || r.BatchCapTotal != tt.cap || r.BatchCapSource != CapFromMetrics ||
			r.MaxNumBatchedTokens != 512 || r.Interconnect != "pcie" || !r.MetricsExact {
			t.Errorf("%s: files %d engines %d cap %d (%s) mbt %d interconnect %q exact %v", r.ExpID, r.ServerMetricsFiles,
				r.Engines, r.BatchCapTotal, r.BatchCapSource, r.MaxNumBatchedTokens, r.Interconnect, r.MetricsExact)
		}
		if want := tt.running / float64(tt.cap); !near(V(r.RunningCapFraction), want) {
			t.Errorf("%s: running_cap_fraction %v, want %v", r.ExpID, V(r.RunningCapFraction), want)
		}
	}
}

// TestCapsWithoutMetrics: a server that exports no scheduler info (vLLM) takes its caps from
// what the campaign recorded, else from the flags it asked for.
func TestCapsWithoutMetrics(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	reqs := map[string][]results.Request{"requests.parquet": handRows()}
	e := windowExperiment("recorded")
	e.Server.DP, e.Server.Effective = 2, map[string]string{"max_num_seqs": "256", "max_num_batched_tokens": "8192"}
	a, _ := Experiment(writeExperiment(t, root, e, reqs), TreeInfo{})
	b, _ := Experiment(writeExperiment(t, root, windowExperiment("requested"), reqs), TreeInfo{})
	if a.MaxNumSeqs != 256 || a.BatchCapTotal != 512 || a.BatchCapSource != CapFromExperiment || a.MaxNumBatchedTokens != 8192 {
		t.Errorf("recorded: max_num_seqs %d cap %d (%s) mbt %d", a.MaxNumSeqs, a.BatchCapTotal, a.BatchCapSource, a.MaxNumBatchedTokens)
	}
	if b.MaxNumSeqs != 16 || b.BatchCapTotal != 16 || b.BatchCapSource != CapFromRequested {
		t.Errorf("requested: max_num_seqs %d cap %d (%s)", b.MaxNumSeqs, b.BatchCapTotal, b.BatchCapSource)
	}
}

// TestGPU: GPU telemetry over the window only, per GPU and summed.
func TestGPU(t *testing.T) {
	t.Parallel()
	e := windowExperiment("g")
	dir := writeExperiment(t, t.TempDir(), e, map[string][]results.Request{"requests.parquet": handRows()})
	f := func(v float64) *float64 { return &v }
	var rows []results.GPUSample
	for k := int64(-2); k < 10; k++ { // 250 ms grid; ticks < 0 and ≥ 8 are outside the window
		at := e.MeasureFrom.UnixNano() + k*250*ms
		rows = append(rows,
			results.GPUSample{TimeUnixNs: at, Tick: k, GPUIndex: 0, Source: "nvidia-smi-query", SMUtilPct: f(50), PowerW: f(300), MemUsedMiB: f(1000)},
			results.GPUSample{TimeUnixNs: at, Tick: k, GPUIndex: 1, Source: "nvidia-smi-query", SMUtilPct: f(100), PowerW: f(500), MemUsedMiB: f(3000)})
	}
	rows[0].SMUtilPct = f(0) // outside the window: must not count
	if err := results.WriteParquet(filepath.Join(dir, results.GPUFile), rows); err != nil {
		t.Fatal(err)
	}
	r, err := Experiment(dir, TreeInfo{})
	if err != nil {
		t.Fatal(err)
	}
	if r.GPUCount != 2 || r.GPUSamples != 16 || r.GPUTelemetry != "nvidia-smi-query" {
		t.Errorf("gpus %d samples %d telemetry %q, want 2, 16, nvidia-smi-query", r.GPUCount, r.GPUSamples, r.GPUTelemetry)
	}
	got := []float64{V(r.GPUUtilMean), V(r.GPUUtilP95), V(r.GPUUtilMinGPU), V(r.PowerWMean), V(r.PowerWTotalMean),
		V(r.MemUsedMiBMean), V(r.MemUsedMiBTotalMean)}
	want := []float64{75, 100, 50, 400, 800, 2000, 4000}
	for i := range got {
		if !near(got[i], want[i]) {
			t.Fatalf("util mean, p95, min GPU, power, power total, mem, mem total = %v, want %v", got, want)
		}
	}
	if r.SMActiveMean != nil {
		t.Errorf("sm_active without a source: %v", *r.SMActiveMean)
	}
}

// TestWriteRead: the Parquet file reads back to the same rows; the CSV has the columns.
func TestWriteRead(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeExperiment(t, root, windowExperiment("e1"), map[string][]results.Request{"requests.parquet": handRows()})
	rows, errs, err := Tree(root)
	if err != nil || len(errs) > 0 {
		t.Fatal(err, errs)
	}
	out := filepath.Join(root, "agg")
	if err := Write(out, rows); err != nil {
		t.Fatal(err)
	}
	back, err := Read(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != 1 || back[0].ExpID != "e1" || V(back[0].TTFTP90) != 180 || back[0].RunningMean != nil {
		t.Errorf("read back %+v", back)
	}
	var b strings.Builder
	if err := WriteCSV(&b, rows); err != nil {
		t.Fatal(err)
	}
	header, _, _ := strings.Cut(b.String(), "\n")
	if header != strings.Join(Columns(), ",") || !strings.HasPrefix(header, "exp_id,campaign,status,failure_reason") {
		t.Errorf("CSV header %q", header)
	}
}

// TestRealTelemetry aggregates experiments of a simulator campaign run on a 4×H100 machine
// (testdata/h100, requests left out for size): real nvidia-smi GPU samples and real scrapes.
func TestRealTelemetry(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("..", "..", "testdata", "h100", "results", "raw", "h100-sim_G4_TP1_DP4_U256_medium_O128_B64")
	if _, err := os.Stat(dir); err != nil {
		t.Skip("no testdata/h100")
	}
	r, err := Experiment(dir, TreeInfo{})
	if err == nil || r.Status != StatusError || !strings.Contains(r.FailureReason, "requests.parquet missing") {
		t.Errorf("without requests: status %q reason %q err %v", r.Status, r.FailureReason, err)
	}
	if r.GPUCount != 4 || r.GPUSamples == 0 || !strings.Contains(r.GPUTelemetry, "nvidia-smi") || r.GPUUtilMean == nil ||
		r.PowerWTotalMean == nil || r.MemUsedMiBMean == nil {
		t.Errorf("GPU: count %d samples %d source %q util %v power %v", r.GPUCount, r.GPUSamples, r.GPUTelemetry,
			show(r.GPUUtilMean), show(r.PowerWTotalMean))
	}
	if r.Engines != 4 || r.BatchCapTotal != 256 || r.RunningMean == nil || *r.RunningMean < 200 {
		t.Errorf("server: engines %d cap %d running %v", r.Engines, r.BatchCapTotal, show(r.RunningMean))
	}
}
