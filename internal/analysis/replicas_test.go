package analysis

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/llmscale/llmscale/internal/diagnose"
	"github.com/llmscale/llmscale/internal/loadgen"
	"github.com/llmscale/llmscale/internal/memnet"
	"github.com/llmscale/llmscale/internal/promscrape"
	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/sim"
)

// TestReplicaGaugesSummedOnOneGrid reproduces issue 12's replica case with the built-in sim
// engine: four replicas, each one simulator with a batch cap of 8, behind the load
// generator's balancer, 64 users, each replica's /metrics scraped on its own grid started a
// few milliseconds after the previous one's (as the campaign's per-replica recorders are).
// The summary must sum the replicas' running and waiting gauges (≈ 32 and ≈ 32 on a cap of
// 32), not report one replica's 8/8, and the verdict must be the batch cap, not a false
// api_server_bound.
func TestReplicaGaugesSummedOnOneGrid(t *testing.T) {
	t.Parallel()
	const replicas, capPer, nUsers = 4, 8, 64
	v := vexp{id: "R4", sim: sim.Config{MaxNumSeqs: capPer}, load: users(nUsers)}
	v.defaults()
	var rec replicaRun
	synctest.Test(t, func(t *testing.T) { rec = v.runReplicas(t, replicas, 3*time.Millisecond) })
	root := t.TempDir()
	dir := results.Dir(root, v.id)
	rec.exp.Server.DP, rec.exp.Server.GPUs, rec.exp.Factors["dp"], rec.exp.Factors["gpus"] = replicas, replicas, "4", "4"
	if err := results.WriteExperiment(dir, rec.exp); err != nil {
		t.Fatal(err)
	}
	if err := results.WriteParquet(filepath.Join(dir, results.RequestsFile(0, 1)), rec.requests); err != nil {
		t.Fatal(err)
	}
	for k, rows := range rec.metrics {
		if err := results.WriteParquet(filepath.Join(dir, fmt.Sprintf("server_metrics-r%d.parquet", k)), rows); err != nil {
			t.Fatal(err)
		}
	}
	res, err := Run(Options{Results: root})
	if err != nil {
		t.Fatal(err)
	}
	r := res.Rows[0]
	if r.BatchCapTotal != replicas*capPer {
		t.Errorf("batch_cap_total = %d, want %d (cap %d × %d replicas)", r.BatchCapTotal, replicas*capPer, capPer, replicas)
	}
	run, wait := *r.RunningMean, *r.WaitingMean
	if run < 0.9*replicas*capPer || run > replicas*capPer {
		t.Errorf("running_mean = %.1f, want the 4 replicas' sum, about %d (one replica alone is %d)", run, replicas*capPer, capPer)
	}
	if wait < 0.6*(nUsers-replicas*capPer) {
		t.Errorf("waiting_mean = %.1f, want about %d summed over the replicas", wait, nUsers-replicas*capPer)
	}
	// k = 0 is recorded: every replica's grid has a scrape at the window's start
	for k, rows := range rec.metrics {
		if !hasSeq(rows, 0) {
			t.Errorf("replica %d: no grid scrape k = 0", k)
		}
	}
	d := res.Diagnosis.Experiments[0]
	t.Logf("%s: %s", d.Verdict.Code, d.Verdict.Sentence)
	if d.Verdict.Code != diagnose.CodeBatchCap || !d.Saturated {
		t.Errorf("verdict %s (saturated %v), want %s: running %.1f, waiting %.1f on a cap of %d", d.Verdict.Code, d.Saturated,
			diagnose.CodeBatchCap, run, wait, r.BatchCapTotal)
	}
	if strings.Contains(strings.Join(d.Verdict.Also, ";"), diagnose.CodeAPIServer) {
		t.Errorf("api_server_bound held too (also %v): the replicas' requests were not all counted", d.Verdict.Also)
	}
}

func hasSeq(rows []results.ServerMetric, k int64) bool {
	for _, r := range rows {
		if r.Phase == results.PhaseDuring && r.Scrape == k && r.Name == promscrape.MetricScrapeUp && r.Value == 1 {
			return true
		}
	}
	return false
}

type replicaRun struct {
	requests []results.Request
	metrics  [][]results.ServerMetric
	exp      results.Experiment
}

// runReplicas serves n simulators, each on its own in-memory listener ("http://sim<k>"), runs
// the load over all of them and scrapes replica k on a grid started k·skew after the window.
func (v vexp) runReplicas(t *testing.T, n int, skew time.Duration) replicaRun {
	lns := make([]*memnet.Listener, n)
	ctx, cancel := context.WithCancel(context.Background())
	var served sync.WaitGroup
	var eff sim.Effective
	for k := range lns {
		srv, err := sim.New(v.sim, sim.Options{})
		if err != nil {
			t.Fatal(err)
		}
		eff = srv.Effective()
		lns[k] = newPipeListener()
		served.Go(func() { _ = srv.Serve(ctx, lns[k]) })
	}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		var k int
		if _, err := fmt.Sscanf(addr, "sim%d", &k); err != nil || k < 0 || k >= n {
			return nil, fmt.Errorf("no replica at %s", addr)
		}
		return lns[k].Dial(ctx, network, addr)
	}
	client := &http.Client{Transport: &http.Transport{DialContext: dial}}
	defer func() {
		cancel()
		served.Wait()
		client.CloseIdleConnections()
	}()
	start := time.Now()
	windowStart := start.Add(v.load.Warmup)
	rec := replicaRun{metrics: make([][]results.ServerMetric, n)}
	var wg sync.WaitGroup
	for k := range n {
		wg.Go(func() {
			rec.metrics[k] = v.scrapeReplica(t, client, fmt.Sprintf("http://sim%d/metrics", k), windowStart.Add(time.Duration(k)*skew))
		})
	}
	cfg := v.loadConfig(lns[0], start)
	cfg.Dial, cfg.Targets = dial, nil
	for k := range n {
		cfg.Targets = append(cfg.Targets, fmt.Sprintf("http://sim%d", k))
	}
	sink := &loadgen.MemorySink{}
	if _, err := loadgen.Run(context.Background(), cfg, sink); err != nil {
		t.Fatalf("%s: load: %v", v.id, err)
	}
	wg.Wait()
	rec.requests = sink.Rows()
	rec.exp = v.record(eff, start, windowStart)
	return rec
}

// scrapeReplica is the recorder of one replica: before snapshot, grid from its own start
// (k = 0 at that instant), after snapshot.
func (v vexp) scrapeReplica(t *testing.T, client *http.Client, url string, at time.Time) []results.ServerMetric {
	s, err := promscrape.New(promscrape.Options{URL: url, Client: client, Interval: 250 * time.Millisecond})
	if err != nil {
		t.Error(err)
		return nil
	}
	time.Sleep(time.Until(at))
	snap, err := s.Snapshot(context.Background())
	start := time.Now()
	rows := promscrape.Rows(v.id, results.PhaseBefore, -1, snap.Time, start, snap, err)
	gridCtx, stop := context.WithTimeout(context.Background(), v.load.RunTime)
	defer stop()
	for sc := range s.Run(gridCtx, start) {
		rows = append(rows, promscrape.ScrapeRows(v.id, start, sc)...)
	}
	snap, err = s.Snapshot(context.Background())
	return append(rows, promscrape.Rows(v.id, results.PhaseAfter, -1, snap.Time, start, snap, err)...)
}
