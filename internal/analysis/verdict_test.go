package analysis

import (
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmscale/llmscale/internal/aggregate"
	"github.com/llmscale/llmscale/internal/diagnose"
	"github.com/llmscale/llmscale/internal/host"
	"github.com/llmscale/llmscale/internal/loadgen"
	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/sim"
)

func users(n int) loadgen.Config {
	return loadgen.Config{Load: loadspec.Load{Intensity: loadspec.Intensity{Mode: loadspec.ModeUsers, Users: n}}}
}

func withTokens(c loadgen.Config, n int) loadgen.Config {
	c.MaxTokens = n
	return c
}

// kvConfig is Llama-3-8B on one H100 with a GPU memory utilisation that leaves about tokens of
// KV cache (bisected through the simulator's own sizing) and a context of 1024.
func kvConfig(t *testing.T, tokens int) sim.Config { return kvConfigTP(t, tokens, 1) }

// kvConfigTP is kvConfig for a replica of tp GPUs: the utilisation leaves about tokens of KV
// cache across them.
func kvConfigTP(t *testing.T, tokens, tp int) sim.Config {
	t.Helper()
	c := sim.Config{TP: tp, MaxNumSeqs: 64, MaxModelLen: 1024}
	lo, hi := 0.05, 0.9
	for range 40 {
		c.GPUMemoryUtilization = (lo + hi) / 2
		eff, err := sim.Resolve(c)
		if err != nil || eff.KVTokens < tokens {
			lo = c.GPUMemoryUtilization
		} else {
			hi = c.GPUMemoryUtilization
		}
	}
	c.GPUMemoryUtilization = hi
	if eff, err := sim.Resolve(c); err != nil || eff.KVTokens < tokens || eff.KVTokens > 2*tokens {
		t.Fatalf("no memory utilisation gives %d KV tokens: %+v, %v", tokens, eff.KVTokens, err)
	}
	return c
}

// expCase is a simulator configuration that must give one experiment verdict.
type expCase struct {
	want    string
	v       vexp
	gpuBusy bool // add GPU telemetry of busy GPUs (the simulator has none)
	suspect bool // the verdict must say the measurement is suspect (a contended host)
}

// busyHost is a machine whose CPUs are 95% busy over the run: each snapshot adds 1,000 ticks,
// 50 of them idle.
type busyHost struct{ n atomic.Uint64 }

func (h *busyHost) Snapshot() (host.Snapshot, error) {
	n := h.n.Add(1)
	return host.Snapshot{CPU: host.CPU{Total: 1000 * n, Idle: 50 * n}}, nil
}

// experimentCases gives, for each experiment verdict of docs/analysis.md, a simulator
// configuration that produces it (TestEveryVerdictHasASimulatorConfig checks the list).
func experimentCases(t *testing.T) []expCase {
	return []expCase{
		{want: diagnose.CodeNotSaturated, v: vexp{id: "too-few-users", sim: sim.Config{MaxNumSeqs: 64}, load: users(4)}},
		{want: diagnose.CodeBatchCap, v: vexp{id: "small-batch-cap", sim: sim.Config{MaxNumSeqs: 4}, load: users(32)}},
		{want: diagnose.CodeKVCache, v: vexp{id: "tiny-kv-cache", sim: kvConfig(t, 4096), load: withTokens(users(32), 256), prompt: 256}},
		{want: diagnose.CodePrefillBudget, v: vexp{id: "small-token-budget", sim: sim.Config{MaxNumSeqs: 64, MaxNumBatchedTokens: 256},
			load: withTokens(users(16), 4), prompt: 2000}},
		{want: diagnose.CodeAPIServer, v: vexp{id: "slow-api-server", sim: sim.Config{DP: 4, MaxNumSeqs: 64,
			Costs: sim.Costs{OutputToken: 250 * time.Microsecond}}, load: users(256)}},
		{want: diagnose.CodeLoadGenerator, v: vexp{id: "in-flight-cap", sim: sim.Config{MaxNumSeqs: 64},
			load: loadgen.Config{Load: loadspec.Load{Intensity: loadspec.Intensity{Mode: loadspec.ModeRate, Rate: 100}, MaxInflight: 2}}}},
		{want: diagnose.CodeGPUBound, v: vexp{id: "busy-gpus", sim: sim.Config{MaxNumSeqs: 256}, load: users(32)}, gpuBusy: true},
		// The same verdict from the simulator's own GPU activity: 70B on one B200, whose steps
		// are 23 ms of weight reads beside 2 ms of CPU.
		{want: diagnose.CodeGPUBound, v: vexp{id: "busy-simulated-gpus", sim: sim.Config{GPU: "b200",
			ModelProfile: "llama-3-70b", MaxNumSeqs: 256}, load: users(32), simGPUs: true}},
		// Every request answered 500: the campaign records the experiment as failed.
		{want: diagnose.CodeFailed, v: vexp{id: "every-request-fails", sim: sim.Config{MaxNumSeqs: 64,
			Faults: sim.Faults{ErrorRate: 1}}, load: users(4)}},
		// The small batch cap again, measured while the host's CPUs were 95% busy: the verdict
		// stands, and says the figures may be the host's.
		{want: diagnose.CodeBatchCap, v: vexp{id: "contended-host", sim: sim.Config{MaxNumSeqs: 4}, load: users(32),
			host: &busyHost{}}, suspect: true},
		// A server whose /metrics were not recorded: no rule can hold, the verdict lists what is missing.
		{want: diagnose.CodeUnknown, v: vexp{id: "no-server-metrics", sim: sim.Config{MaxNumSeqs: 4}, load: users(32), noScrape: true}},
	}
}

// TestExperimentVerdictsFromTheSimulator: for each experiment verdict, a simulator
// configuration that produces it, run as a virtual campaign, aggregated and diagnosed.
func TestExperimentVerdictsFromTheSimulator(t *testing.T) {
	t.Parallel()
	for _, tt := range experimentCases(t) {
		t.Run(tt.v.id, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			dir := runVirtual(t, t.TempDir(), tt.v)
			if tt.gpuBusy {
				writeGPUs(t, dir, 1, 97, 85)
			}
			row, err := aggregate.Experiment(dir, aggregate.TreeInfo{})
			if err != nil && tt.want != diagnose.CodeFailed {
				t.Fatal(err)
			}
			d := diagnose.Experiment(&row)
			t.Logf("%s in %v: %s — %s", tt.v.id, time.Since(start), d.Verdict.Code, d.Verdict.Sentence)
			if d.Verdict.Code != tt.want {
				t.Errorf("verdict %s, want %s: %s\nevidence: %v", d.Verdict.Code, tt.want, d.Verdict.Sentence, d.Verdict.Evidence)
			}
			if got := d.Suspect != "" && strings.Contains(d.Verdict.Sentence, "host was contended"); got != tt.suspect {
				t.Errorf("suspect measurement said: %v, want %v (suspect %q)", got, tt.suspect, d.Suspect)
			}
			checkMargins(t, d.Verdict)
		})
	}
}

// writeGPUs writes a gpu.parquet of n GPUs at util % utilisation and sm % SM activity on a
// 250 ms grid over the experiment's measured window, as the campaign's sampler would.
func writeGPUs(t *testing.T, dir string, n int, util, sm float64) {
	t.Helper()
	e, err := results.ReadExperiment(dir)
	if err != nil {
		t.Fatal(err)
	}
	var rows []results.GPUSample
	for k, at := int64(0), e.MeasureFrom; at.Before(e.MeasureTo); k, at = k+1, at.Add(250*time.Millisecond) {
		for g := range n {
			u, s, p := util, sm, 600.0
			rows = append(rows, results.GPUSample{TimeUnixNs: at.UnixNano(), Tick: k, GPUIndex: int32(g),
				GPUName: "Fake H100", Source: "fake", SMUtilPct: &u, SMActivePct: &s, PowerW: &p})
		}
	}
	if err := results.WriteParquet(filepath.Join(dir, results.GPUFile), rows); err != nil {
		t.Fatal(err)
	}
}
