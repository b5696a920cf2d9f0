package loadgen

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/stats"
)

func TestSummaryText(t *testing.T) {
	t.Parallel()
	srv := &fakeServer{ttft: 50 * time.Millisecond, itl: 10 * time.Millisecond, perChunk: 2, continuous: true}
	sum, err, _ := runFake(t, srv, nil)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := sum.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"llmscale load: exp1", "2 requests in flight", "Successful requests:",
		"Request throughput (req/s):", "Output token throughput (tok/s):", "TTFT", "TPOT", "ITL per token",
		"E2EL", "Send lag", "the client did not limit the run"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary text lacks %q:\n%s", want, out)
		}
	}
	// Chunks of two tokens 10 ms apart: ITL 10 ms per chunk, 5 ms per token.
	if sum.ITL.Median != 10 || sum.TokenITL.Median != 5 || math.Abs(sum.TPOT.Mean-30.0/7) > 1e-6 {
		t.Errorf("ITL %v, token ITL %v, TPOT %v", sum.ITL.Median, sum.TokenITL.Median, sum.TPOT.Mean)
	}
	data, err := json.Marshal(sum.JSON())
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"mean_ttft_ms", "median_tpot_ms", "p99_itl_ms", "p90_e2el_ms", "request_throughput",
		"output_throughput", "total_token_throughput", "p99_send_lag_ms", "achieved_rate", "client_cpu_s"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("summary JSON lacks %s", k)
		}
	}
}

// TestLimits: the summary says when the client limited the run.
func TestLimits(t *testing.T) {
	t.Parallel()
	ranOut := []string{LimitFiles}
	s := &Summary{Mode: loadspec.ModeRate, Cores: 2, ClientCores: 1.95, Summary: stats.Summary{ScheduledRate: 100, AchievedRate: 90},
		WakeLag: Stat{P99: 12, Max: 30}}
	lagUp := stats.Trend{time.Millisecond, 40 * time.Millisecond}
	got := strings.Join(limitsOf(s, lagUp, ranOut), "\n")
	for _, want := range []string{"CPU-bound", "send lag grew from 1.00 ms to 40.00 ms over the window: the client fell behind",
		"ran out of file descriptors", "10.0% below the schedule's 100.00 req/s\n", "timer woke up to 12.0 ms late"} {
		if !strings.Contains(got+"\n", want) {
			t.Errorf("limits lack %q:\n%s", want, got)
		}
	}
	// When the in-flight cap held requests back, the cap, not the client, made them late.
	s.CapWaits, s.MaxInflight = 3, 4
	got = strings.Join(limitsOf(s, lagUp, ranOut), "\n")
	if !strings.Contains(got, "in-flight cap (4) held back 3") || strings.Contains(got, "fell behind") ||
		!strings.Contains(got, "below the schedule's 100.00 req/s (the in-flight cap)") {
		t.Errorf("limits with the cap binding:\n%s", got)
	}
	if l := limitsOf(&Summary{Mode: loadspec.ModeUsers, Cores: 2, ClientCores: 0.3}, stats.Trend{}, nil); len(l) != 0 {
		t.Errorf("an easy run has limits %v", l)
	}
}

// TestProgress: the live snapshot follows the run.
func TestProgress(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		dial, stop := serveInMemory(&fakeServer{ttft: 100 * time.Millisecond, tokens: 2})
		defer stop()
		cfg := baseConfig(dial)
		cfg.Warmup, cfg.RunTime, cfg.Cooldown = time.Second, 2*time.Second, time.Second
		r, err := New(cfg, &MemorySink{})
		if err != nil {
			t.Fatal(err)
		}
		if p := r.Progress(); p.Phase != "waiting" {
			t.Fatalf("before the run: %+v", p)
		}
		var mu sync.Mutex
		snaps := map[string]Snapshot{}
		for _, at := range []time.Duration{450 * time.Millisecond, 1500 * time.Millisecond, 2550 * time.Millisecond, 3500 * time.Millisecond} {
			time.AfterFunc(at, func() {
				p := r.Progress()
				mu.Lock()
				snaps[p.Phase] = p
				mu.Unlock()
			})
		}
		if _, err := r.Run(t.Context()); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		w, m := snaps[results.PhaseWarmup], snaps[results.PhaseMeasure]
		if w.InFlight != 2 || w.Done != 8 || w.Left != 3550*time.Millisecond || w.Total != 4*time.Second {
			t.Errorf("warm-up snapshot %+v", w)
		}
		if math.Abs(m.ReqRate-20) > 2 || math.Abs(m.OutTokRate-40) > 4 || m.TTFTP50 != 100*time.Millisecond || m.Sent != m.Done+m.InFlight {
			t.Errorf("measure snapshot %+v", m)
		}
		if _, ok := snaps[results.PhaseCooldown]; !ok {
			t.Errorf("no cool-down snapshot: %v", snaps)
		}
	})
}
