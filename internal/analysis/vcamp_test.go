package analysis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/llmscale/llmscale/internal/gpu"
	"github.com/llmscale/llmscale/internal/loadgen"
	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/memnet"
	"github.com/llmscale/llmscale/internal/promscrape"
	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/sim"
	"github.com/llmscale/llmscale/internal/workload"
)

// A virtual campaign runs one experiment the way `llmscale run` does — the simulator serving
// HTTP, the load generator streaming every response, /metrics scraped before, on the grid and
// after the window — but in a testing/synctest bubble: time is fake, so a 4-second experiment
// takes as long as its CPU work and every figure is the same on every run and under any load.
// Connections are in-memory pipes. Its raw files (experiment.json, requests.parquet,
// server_metrics.parquet) are written after the bubble ends: Parquet's pools must not be
// created inside one.

// vexp is one virtual experiment: a simulator configuration and a load.
type vexp struct {
	id     string
	sim    sim.Config
	load   loadgen.Config // Mode and level, MaxTokens, Warmup, RunTime, MaxInflight…
	prompt int            // prompt tokens (random token IDs)
	gpus   int
	// slo, when set, is recorded in experiment.json.
	sloTTFT time.Duration
	// simGPUs samples the simulator's GPU activity (/sim/dcgm/metrics) on the window's grid
	// into gpu.parquet, as a campaign on the sim engine does.
	simGPUs bool
	// noScrape leaves /metrics alone (a server whose metrics are not recorded): no
	// server_metrics.parquet.
	noScrape bool
	// repeat is the experiment's repeat number (0 = 1): repeats of one server configuration
	// are repeats of one point of a series.
	repeat int
	// host, when set, is the machine the load generator reads at the start and end of the
	// run (loadgen.Config.Host); its view goes into summary.json, as the campaign writes it.
	host loadgen.HostSampler
}

// vexpDefaults fills the common settings.
func (v *vexp) defaults() {
	if v.load.Warmup == 0 {
		v.load.Warmup = time.Second
	}
	if v.load.RunTime == 0 {
		v.load.RunTime = 3 * time.Second
	}
	if v.load.Cooldown == 0 {
		v.load.Cooldown = time.Millisecond
	}
	if v.load.MaxTokens == 0 {
		v.load.MaxTokens = 32
	}
	if v.prompt == 0 {
		v.prompt = 64
	}
	if v.gpus == 0 {
		v.gpus = max(v.sim.TP, 1) * max(v.sim.DP, 1)
	}
	if v.repeat == 0 {
		v.repeat = 1
	}
}

// newPipeListener is an in-memory listener: tests under testing/synctest cannot use TCP.
func newPipeListener() *memnet.Listener { return memnet.Listen() }

// vrun is what a virtual experiment recorded.
type vrun struct {
	requests []results.Request
	metrics  []results.ServerMetric
	gpus     []results.GPUSample
	exp      results.Experiment
	summary  results.LoadSummary
}

// runVirtual runs v in a bubble and writes its raw files under root/raw/<id>; it returns the
// experiment folder.
func runVirtual(t *testing.T, root string, v vexp) string {
	t.Helper()
	v.defaults()
	var out vrun
	synctest.Test(t, func(t *testing.T) { out = v.run(t) })
	dir := results.Dir(root, v.id)
	if err := results.WriteExperiment(dir, out.exp); err != nil {
		t.Fatal(err)
	}
	if err := results.WriteParquet(filepath.Join(dir, results.RequestsFile(0, 1)), out.requests); err != nil {
		t.Fatal(err)
	}
	if !v.noScrape {
		if err := results.WriteParquet(filepath.Join(dir, results.ServerMetricsFile), out.metrics); err != nil {
			t.Fatal(err)
		}
	}
	if v.simGPUs {
		if err := results.WriteParquet(filepath.Join(dir, results.GPUFile), out.gpus); err != nil {
			t.Fatal(err)
		}
	}
	if v.host != nil { // only then: the client's CPU figures are real time, not the bubble's
		if err := results.WriteJSON(filepath.Join(dir, loadgen.SummaryFile(0, 1)), out.summary); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func (v vexp) run(t *testing.T) vrun {
	srv, err := sim.New(v.sim, sim.Options{})
	if err != nil {
		t.Fatalf("%s: %v", v.id, err)
	}
	ln := newPipeListener()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	client := &http.Client{Transport: &http.Transport{DialContext: ln.Dial}}
	defer func() {
		cancel()
		<-served
		client.CloseIdleConnections()
	}()

	start := time.Now()
	windowStart := start.Add(v.load.Warmup)
	var rec vrun
	var wg sync.WaitGroup
	if !v.noScrape {
		wg.Go(func() { rec.metrics = v.scrape(t, client, windowStart) })
	}
	if v.simGPUs {
		wg.Go(func() { rec.gpus = v.sampleGPUs(t, client, windowStart) })
	}
	cfg := v.loadConfig(ln, start)
	sink := &loadgen.MemorySink{}
	sum, err := loadgen.Run(context.Background(), cfg, sink)
	if err != nil && !errors.Is(err, loadgen.ErrAllFailed) {
		t.Fatalf("%s: load: %v", v.id, err)
	}
	wg.Wait()
	rec.requests, rec.summary = sink.Rows(), sum.JSON()
	rec.exp = v.record(srv.Effective(), start, windowStart)
	if err != nil { // as the campaign records it: the experiment failed, its files kept
		rec.exp.Status, rec.exp.Reason = results.StatusFailed, "every request failed: "+strings.Join(sum.FirstErrors, "; ")
	}
	return rec
}

func (v vexp) loadConfig(ln *memnet.Listener, start time.Time) loadgen.Config {
	c := v.load
	c.Targets, c.API, c.Model = []string{"http://sim"}, loadspec.APICompletions, sim.DefaultModel
	c.Dial, c.Waiter, c.StartAt, c.ExperimentID = ln.Dial, loadgen.TimerWaiter{}, start, v.id
	c.IgnoreEOS, c.Grace, c.Seed, c.Host = true, 30*time.Second, 7, v.host
	rng := rand.New(rand.NewPCG(7, 7))
	for range 16 {
		ids := make([]int, v.prompt)
		for i := range ids {
			ids[i] = 100 + rng.IntN(30000)
		}
		c.Prompts = append(c.Prompts, workload.Prompt{TokenIDs: ids, Tokens: v.prompt})
	}
	return c
}

// scrape takes the before snapshot at the window's start, scrapes on the grid through the
// window and takes the after snapshot, as the campaign's recorder does.
func (v vexp) scrape(t *testing.T, client *http.Client, windowStart time.Time) []results.ServerMetric {
	s, err := promscrape.New(promscrape.Options{URL: "http://sim/metrics", Client: client, Interval: 250 * time.Millisecond})
	if err != nil {
		t.Error(err)
		return nil
	}
	time.Sleep(time.Until(windowStart))
	ctx := context.Background()
	snap, err := s.Snapshot(ctx)
	start := time.Now()
	rows := promscrape.Rows(v.id, results.PhaseBefore, -1, snap.Time, start, snap, err)
	gridCtx, stop := context.WithTimeout(ctx, v.load.RunTime)
	defer stop()
	for sc := range s.Run(gridCtx, start) {
		rows = append(rows, promscrape.ScrapeRows(v.id, start, sc)...)
	}
	snap, err = s.Snapshot(ctx)
	return append(rows, promscrape.Rows(v.id, results.PhaseAfter, -1, snap.Time, start, snap, err)...)
}

// sampleGPUs reads the simulator's GPU activity on a 250 ms grid over the window, as the
// campaign's sampler (gpu.SimSource) does.
func (v vexp) sampleGPUs(t *testing.T, client *http.Client, windowStart time.Time) []results.GPUSample {
	var rows []results.GPUSample
	for k := int64(0); ; k++ {
		at := windowStart.Add(time.Duration(k) * 250 * time.Millisecond)
		if !at.Before(windowStart.Add(v.load.RunTime)) {
			return rows
		}
		time.Sleep(time.Until(at))
		resp, err := client.Get("http://sim" + sim.GPUMetricsPath)
		if err != nil {
			t.Error(err)
			return rows
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		readings, err := gpu.ParseDCGM(body)
		if err != nil {
			t.Error(err)
			return rows
		}
		for _, r := range readings {
			s := gpu.Sample{Tick: k, Time: at, Offset: at.Sub(windowStart), Index: r.Index, UUID: r.UUID, Name: r.Name,
				Source: "sim", Metrics: r.Metrics}
			rows = append(rows, s.Row())
		}
	}
}

// record is the experiment.json the campaign would write.
func (v vexp) record(eff sim.Effective, start, windowStart time.Time) results.Experiment {
	l := v.load
	e := results.Experiment{ID: v.id, Campaign: "virtual", Repeat: v.repeat, Status: results.StatusDone,
		Factors: map[string]string{"gpus": fmt.Sprint(v.gpus), "tp": fmt.Sprint(eff.TP), "dp": fmt.Sprint(eff.DP)},
		Server: results.ServerInfo{ID: fmt.Sprintf("G%d_TP%d_DP%d", v.gpus, eff.TP, eff.DP), Engine: "sim", Model: eff.Model,
			GPUs: v.gpus, TP: eff.TP, DP: eff.DP, PP: 1, BatchSize: v.sim.MaxNumSeqs, MBT: v.sim.MaxNumBatchedTokens},
		Load:      results.LoadInfo{Intensity: l.Intensity, Prompts: fmt.Sprintf("random:%d:%d", v.prompt, l.MaxTokens), MaxTokens: l.MaxTokens, API: "completions", Workers: 1, WarmupNs: int64(l.Warmup), RunTimeNs: int64(l.RunTime), CooldownNs: int64(l.Cooldown), SLOTTFTNs: int64(v.sloTTFT)},
		StartedAt: start.UTC(), MeasureFrom: windowStart.UTC(), MeasureTo: windowStart.Add(l.RunTime).UTC(),
		Telemetry: []string{"gpu: the simulator has no GPUs"}}
	if v.simGPUs {
		e.Telemetry = nil
	}
	e.Factors[string(l.Mode)] = fmt.Sprint(l.Users + l.Concurrency)
	return e
}
