package loadgen

import (
	"testing"
	"time"

	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/results"
)

// TestMaxRequests: a load bounded by its count (vLLM's --num-prompts) sends exactly that many
// requests, every one measured, and its window ends when the last one ends; goodput counts
// the requests that met the objectives.
func TestMaxRequests(t *testing.T) {
	t.Parallel()
	srv := &fakeServer{ttft: 20 * time.Millisecond, itl: 5 * time.Millisecond, tokens: 4}
	for _, c := range []struct {
		name string
		edit func(*Config)
		good int
	}{
		{"closed loop", func(c *Config) { c.Concurrency = 3 }, 7},
		{"open loop", func(c *Config) { c.Mode, c.Rate, c.MaxInflight = loadspec.ModeRate, 50, 2 }, 7},
		{"users with think time", func(c *Config) { c.Mode, c.Users, c.ThinkTime = loadspec.ModeUsers, 2, 10*time.Millisecond }, 7},
		{"objective missed", func(c *Config) { c.SLO.TTFT = 10 * time.Millisecond }, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			sum, err, rows := runFake(t, srv, func(cfg *Config) {
				cfg.MaxRequests, cfg.RunTime, cfg.SLO = 7, NoTimeLimit, loadspec.SLO{TTFT: 500 * time.Millisecond}
				c.edit(cfg)
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 7 || sum.Succeeded != 7 || sum.Phases[results.PhaseMeasure] != 7 {
				t.Fatalf("%d records, %d succeeded, phases %v; want 7 measured", len(rows), sum.Succeeded, sum.Phases)
			}
			var last int64
			for _, r := range rows {
				last = max(last, r.EndNs)
			}
			if sum.Window < time.Duration(last) || sum.Window > time.Duration(last)+50*time.Millisecond {
				t.Errorf("window %v, last request ended at %v: the window should end with it", sum.Window, time.Duration(last))
			}
			if sum.GoodRequests != c.good || sum.Interrupted {
				t.Errorf("good requests %d, want %d (interrupted %v)", sum.GoodRequests, c.good, sum.Interrupted)
			}
		})
	}
}

// TestMaxRequestsWithRunTime: the run time still bounds a load with a request limit.
func TestMaxRequestsWithRunTime(t *testing.T) {
	t.Parallel()
	srv := &fakeServer{ttft: 20 * time.Millisecond, itl: 5 * time.Millisecond, tokens: 4}
	sum, err, rows := runFake(t, srv, func(cfg *Config) {
		cfg.MaxRequests, cfg.RunTime, cfg.Concurrency = 1000, 200*time.Millisecond, 1
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) >= 1000 || len(rows) < 2 || sum.Window != 200*time.Millisecond {
		t.Errorf("%d requests in a %v window; want the 200ms run time to stop it", len(rows), sum.Window)
	}
}

func TestMaxRequestsValidate(t *testing.T) {
	t.Parallel()
	cfg := baseConfig(nil)
	cfg.MaxRequests, cfg.WorkerCount = 1, 2
	if err := cfg.withDefaults().Validate(); err == nil {
		t.Error("1 request for 2 workers: no error")
	}
	cfg.MaxRequests, cfg.WorkerCount, cfg.SLO.TPOT = 0, 1, -time.Millisecond
	if err := cfg.withDefaults().Validate(); err == nil {
		t.Error("a negative objective: no error")
	}
}
