package cli

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/llmscale/llmscale/internal/loadgen"
	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/workload"
)

// TestLoadRecordGolden: load.json is written byte for byte as documented.
func TestLoadRecordGolden(t *testing.T) {
	var c loadgen.Config
	c.ExperimentID, c.Targets, c.API, c.Model, c.Mode = "e1", []string{"http://a:1", "http://b:2"}, "chat", "org/m", "rate"
	c.Rate, c.Arrival, c.Burstiness, c.MaxInflight = 12.5, "gamma", 0.5, 8
	c.Warmup, c.RunTime, c.Cooldown, c.ThinkTime = 1500*time.Millisecond, time.Minute, 0, 2*time.Second
	c.Timeout, c.StallTimeout, c.Grace = 10*time.Minute, time.Minute, 30*time.Second
	c.Prompts, c.MaxTokens, c.IgnoreEOS, c.ContinuousUsage = make([]workload.Prompt, 3), 64, true, true
	c.Client, c.Seed, c.WorkerID, c.WorkerCount = "epoll", -3, 1, 2
	path := filepath.Join(t.TempDir(), "load.json")
	if err := results.WriteJSON(path, loadRecord(c, "random:100:20")); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "load-record.golden.json", string(got))
}
