// Package treegen writes a synthetic results tree of a campaign's shape — experiment.json,
// requests.parquet with every chunk gap, server_metrics.parquet replaying a real /metrics
// exposition on a grid, gpu.parquet and summary.json for each experiment — so that the
// aggregation can be benchmarked at the size of a real campaign without GPUs. The tree is a
// pure function of the options: the same seed gives the same bytes of data.
package treegen

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"time"

	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/results"
)

// Options size the tree. The defaults (Issue18) are the tree issue 18 measured: 200
// experiments, 169,500 requests, 14.9 M chunk gaps, 3.2 M server-metric rows.
type Options struct {
	Experiments int
	// Requests is the number of requests of each experiment (warm-up and cool-down included).
	Requests int
	// MinTokens and MaxTokens bound each answer's output tokens (uniform); a request has
	// output − 1 chunk gaps.
	MinTokens, MaxTokens int
	// Scrapes is the number of grid scrapes of /metrics per experiment (a before and an after
	// snapshot are added).
	Scrapes int
	// Exposition is the /metrics body every scrape replays (values change from scrape to
	// scrape: counters grow, gauges move); nil writes no server_metrics.parquet.
	Exposition []byte
	// Seed makes the tree: the same seed and options give the same rows.
	Seed uint64
}

// Issue18 is the size of the tree issue 18 measured (with a /metrics body of about 800
// samples, such as vLLM's with DP 2, 22 scrapes give about 16,000 rows an experiment).
func Issue18(exposition []byte) Options {
	return Options{Experiments: 200, Requests: 848, MinTokens: 50, MaxTokens: 131, Scrapes: 20,
		Exposition: exposition, Seed: 18}
}

// Stats counts what Write wrote.
type Stats struct {
	Experiments, Requests, Gaps, ServerMetricRows, GPURows int64
}

// The measured window of every experiment: 10 s warm-up, 60 s measured, 5 s cool-down.
const (
	warmup   = 10 * time.Second
	runTime  = 60 * time.Second
	cooldown = 5 * time.Second
)

// epoch is the wall-clock start of the first experiment.
var epoch = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// Write writes the tree under root (root/raw/<exp_id>/…).
func Write(root string, o Options) (Stats, error) {
	if o.Experiments <= 0 || o.Requests <= 0 || o.MinTokens < 1 || o.MaxTokens < o.MinTokens {
		return Stats{}, fmt.Errorf("treegen: options %+v: want experiments, requests ≥ 1 and 1 ≤ min tokens ≤ max tokens", o)
	}
	samples, err := parseExposition(o.Exposition)
	if err != nil {
		return Stats{}, err
	}
	var st Stats
	for i := range o.Experiments {
		if err := writeExperiment(root, o, samples, i, &st); err != nil {
			return st, err
		}
	}
	return st, nil
}

// shape is the server and load of experiment i: GPUs 1–8 with TP or DP, users 8–256.
type shape struct{ gpus, tp, dp, users int }

func shapeOf(i int) shape {
	gpus := []int{1, 2, 4, 8}[i%4]
	tp, dp := gpus, 1
	if (i/4)%2 == 1 {
		tp, dp = 1, gpus
	}
	return shape{gpus: gpus, tp: tp, dp: dp, users: []int{8, 32, 64, 128, 256}[(i/8)%5]}
}

func writeExperiment(root string, o Options, samples []sampleSpec, i int, st *Stats) error {
	sh := shapeOf(i)
	e := experiment(i, sh)
	dir := results.Dir(root, e.ID)
	rng := rand.New(rand.NewPCG(o.Seed, uint64(i)))
	if err := results.WriteExperiment(dir, e); err != nil {
		return err
	}
	reqs := requests(rng, o, sh, e.ID)
	if err := writeBatches(filepath.Join(dir, "requests.parquet"), reqs, 64); err != nil {
		return err
	}
	for j := range reqs {
		st.Gaps += int64(len(reqs[j].ITLNs))
	}
	st.Requests += int64(len(reqs))
	if samples != nil {
		rows := serverMetrics(rng, e, samples, o.Scrapes)
		if err := writeBatches(filepath.Join(dir, results.ServerMetricsFile), rows, len(samples)+3); err != nil {
			return err
		}
		st.ServerMetricRows += int64(len(rows))
	}
	gpu := gpuSamples(rng, e, sh)
	if err := results.WriteParquet(filepath.Join(dir, results.GPUFile), gpu); err != nil {
		return err
	}
	st.GPURows += int64(len(gpu))
	st.Experiments++
	return results.WriteJSON(filepath.Join(dir, "summary.json"),
		map[string]any{"client_cores_busy": 0.2 + rng.Float64()*0.5, "client_cores": 2})
}

// experiment is experiment.json of experiment i, in a window that starts where the previous
// experiment's ended.
func experiment(i int, sh shape) results.Experiment {
	id := fmt.Sprintf("gen_G%d_TP%d_DP%d_U%d_r%d", sh.gpus, sh.tp, sh.dp, sh.users, i/40)
	start := epoch.Add(time.Duration(i) * 2 * time.Minute)
	from := start.Add(warmup)
	return results.Experiment{ID: fmt.Sprintf("%03d_%s", i, id), Campaign: "treegen", Index: i, Repeat: i / 40,
		Status: results.StatusDone,
		Factors: map[string]string{"gpus": fmt.Sprint(sh.gpus), "tp": fmt.Sprint(sh.tp), "dp": fmt.Sprint(sh.dp),
			"users": fmt.Sprint(sh.users), "prompts": "medium"},
		Server: results.ServerInfo{ID: fmt.Sprintf("G%d_TP%d_DP%d", sh.gpus, sh.tp, sh.dp), Engine: "vllm",
			Model: "meta-llama/Llama-3.1-8B-Instruct", GPUs: sh.gpus, TP: sh.tp, DP: sh.dp, PP: 1, BatchSize: 256},
		Load:      results.LoadInfo{Intensity: loadspec.Intensity{Mode: loadspec.Mode("users"), Users: sh.users}, Prompts: "medium", MaxTokens: 128, API: "completions", Workers: 1, WarmupNs: int64(warmup), RunTimeNs: int64(runTime), CooldownNs: int64(cooldown), SLOTTFTNs: int64(500 * time.Millisecond), SLOTPOTNs: int64(50 * time.Millisecond)},
		StartedAt: start, EndedAt: from.Add(runTime + cooldown), MeasureFrom: from, MeasureTo: from.Add(runTime),
		Host: "treegen", GPUs: []string{"NVIDIA H100 80GB HBM3"}, Tool: "treegen"}
}

// writeBatches writes rows as a campaign does, a batch at a time (requests as they end, a
// scrape's rows at once), so the file has the row groups of a real one (results.RowGroupRows).
func writeBatches[T any](path string, rows []T, batch int) error {
	w, err := results.NewParquetWriter[T](path)
	if err != nil {
		return err
	}
	for len(rows) > 0 {
		n := min(batch, len(rows))
		if err := w.Write(rows[:n]); err != nil {
			w.Abort()
			return err
		}
		rows = rows[n:]
	}
	return w.Close()
}
