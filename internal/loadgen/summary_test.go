package loadgen

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/results"
)

// TestPercentile checks against numpy.percentile (linear interpolation), as vLLM computes.
func TestPercentile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v    []float64
		p    float64
		want float64 // numpy.percentile(v, p)
	}{
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 50, 5.5},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 90, 9.1},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 99, 9.91},
		{[]float64{15, 20, 35, 40, 50}, 40, 29},
		{[]float64{15, 20, 35, 40, 50}, 100, 50},
		{[]float64{15, 20, 35, 40, 50}, 0, 15},
		{[]float64{3}, 99, 3},
	}
	for _, tt := range tests {
		if got := Percentile(tt.v, tt.p); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("Percentile(%v, %v) = %v, want %v", tt.v, tt.p, got, tt.want)
		}
	}
	if !math.IsNaN(Percentile(nil, 50)) {
		t.Error("Percentile of nothing is not NaN")
	}
	s := NewStat([]float64{4, 1, 3, 2})
	if s.N != 4 || s.Mean != 2.5 || s.Median != 2.5 || math.Abs(s.Std-math.Sqrt(1.25)) > 1e-12 || s.Max != 4 {
		t.Errorf("NewStat = %+v", s)
	}
}

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
	r := &Runner{cfg: Config{Load: loadspec.Load{Intensity: loadspec.Intensity{Mode: loadspec.ModeRate}, MaxInflight: 4}}, limits: map[string]bool{"file descriptors": true}}
	s := &Summary{Mode: loadspec.ModeRate, Cores: 2, ClientCores: 1.95, ScheduledRate: 100, AchievedRate: 90,
		WakeLag: Stat{P99: 12, Max: 30}}
	lagUp := [2]time.Duration{time.Millisecond, 40 * time.Millisecond}
	got := strings.Join(r.limitsOf(s, lagUp), "\n")
	for _, want := range []string{"CPU-bound", "send lag grew from 1.00 ms to 40.00 ms over the window: the client fell behind",
		"ran out of file descriptors", "10.0% below the schedule's 100.00 req/s\n", "timer woke up to 12.0 ms late"} {
		if !strings.Contains(got+"\n", want) {
			t.Errorf("limits lack %q:\n%s", want, got)
		}
	}
	// When the in-flight cap held requests back, the cap, not the client, made them late.
	s.CapWaits, s.MaxInflight = 3, 4
	got = strings.Join(r.limitsOf(s, lagUp), "\n")
	if !strings.Contains(got, "in-flight cap (4) held back 3") || strings.Contains(got, "fell behind") ||
		!strings.Contains(got, "below the schedule's 100.00 req/s (the in-flight cap)") {
		t.Errorf("limits with the cap binding:\n%s", got)
	}
	if l := (&Runner{}).limitsOf(&Summary{Mode: loadspec.ModeUsers, Cores: 2, ClientCores: 0.3}, [2]time.Duration{}); len(l) != 0 {
		t.Errorf("an easy run has limits %v", l)
	}
}

func TestLagTrend(t *testing.T) {
	t.Parallel()
	var pts []lagPoint
	for i := range 100 {
		pts = append(pts, lagPoint{due: int64(100 - i), lag: int64(100-i) * int64(time.Millisecond)})
	}
	if tr := lagTrend(pts); tr[0] != 6*time.Millisecond || tr[1] != 96*time.Millisecond {
		t.Fatalf("trend %v, want 6ms then 96ms", tr)
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

// TestFirstErrorsByShape: errors that differ only in ids or numbers are reported once.
func TestFirstErrorsByShape(t *testing.T) {
	t.Parallel()
	var a accumulator
	for _, msg := range []string{`not JSON: {"id":"cmpl-5d3a9f0c7b2e"`, `not JSON: {"id":"cmpl-77aa01bb9c3d"`, "HTTP 500: boom", "HTTP 503: boom"} {
		a.add(&results.Request{ErrorKind: results.ErrorHTTP, Error: msg, Phase: results.PhaseMeasure})
	}
	k := results.ErrorHTTP + ": "
	want := []string{k + `not JSON: {"id":"cmpl-5d3a9f0c7b2e"`, k + "HTTP 500: boom", k + "HTTP 503: boom"}
	if !slices.Equal(a.firstErrors, want) {
		t.Errorf("first errors %q, want %q", a.firstErrors, want)
	}
}
