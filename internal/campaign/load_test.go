package campaign

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/llmscale/llmscale/internal/loadgen"
	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/matrix"
	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/spec"
	"github.com/llmscale/llmscale/internal/workload"
)

// TestLoadOf: an experiment becomes the load workers run, every setting carried, and the
// worker file reads back as the same load.
func TestLoadOf(t *testing.T) {
	t.Parallel()
	seed, yes := int64(42), true
	e := matrix.Experiment{ID: "camp_G1_TP1_DP1_R50", Load: matrix.Load{
		Intensity: loadspec.Intensity{Mode: loadspec.ModeRate, Rate: 50}, MaxTokens: 64,
		Prompts: workload.Source{Kind: workload.KindRandom, InTokens: 100, OutTokens: 20},
		API:     loadspec.APIChat, Model: "llama", SLO: spec.SLO{TTFT: spec.Duration(time.Second)},
		Settings: spec.Load{Arrival: "gamma", Burstiness: 0.5, MaxInflight: 100, Timeout: spec.Duration(time.Hour),
			StallTimeout: spec.Duration(time.Minute), RunTime: spec.Duration(time.Minute), Warmup: spec.Duration(10 * time.Second),
			Cooldown: spec.Duration(5 * time.Second), Grace: 0, Seed: &seed, IgnoreEOS: &yes, Workers: 2, Client: "epoll",
			StartRamp: spec.Duration(time.Second)}}}
	l := loadOf(e, []string{"http://a:1", "http://b:1"})
	want := loadspec.Load{Intensity: e.Load.Intensity, Targets: []string{"http://a:1", "http://b:1"}, API: loadspec.APIChat,
		Model: "llama", Arrival: "gamma", Burstiness: 0.5, MaxInflight: 100, ConnectRate: loadgen.NoPreconnect,
		PromptSet: "random:100:20", MaxTokens: 64,
		IgnoreEOS: true, Seed: 42, Warmup: 10 * time.Second, RunTime: time.Minute, Cooldown: 5 * time.Second,
		Timeout: time.Hour, StallTimeout: time.Minute, SLO: loadspec.SLO{TTFT: time.Second}, Client: "epoll",
		ExperimentID: e.ID, WorkerCount: 1}
	if diff := cmp.Diff(want, l); diff != "" {
		t.Fatalf("loadOf (-want +got):\n%s", diff)
	}
	// A matrix's connect_rate 0 opens no connection ahead (above); its start ramp reaches only
	// closed loops.
	c := e
	c.Load.Intensity, c.Load.Settings.ConnectRate = loadspec.Intensity{Mode: loadspec.ModeConcurrency, Concurrency: 8}, 500
	if got := loadOf(c, nil); got.ConnectRate != 500 || got.StartRamp != time.Second {
		t.Errorf("concurrency: connect rate %v, start ramp %v; want 500 and 1s", got.ConnectRate, got.StartRamp)
	}
	if err := l.Check(); err != nil {
		t.Fatalf("the experiment's load does not check: %v", err)
	}
	path := filepath.Join(t.TempDir(), WorkerLoadFile)
	if err := results.WriteJSON(path, l); err != nil {
		t.Fatal(err)
	}
	var back loadspec.Load
	if err := results.ReadJSON(path, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(l, back); diff != "" {
		t.Errorf("the worker file reads back otherwise (-wrote +read):\n%s", diff)
	}
	if _, err := loadgen.New(loadgen.Config{Load: l, Prompts: []workload.Prompt{{Text: "hi", Tokens: 1}}}, &loadgen.MemorySink{}); err != nil {
		t.Errorf("the load generator refuses the experiment's load: %v", err)
	}
}
