package loadgen

import (
	"context"
	"errors"
	"math"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/schedule"
)

// TestOpenLoopKeepsSchedule: in rate mode every request is sent when due, however slow the
// server, and the achieved rate is the schedule's.
func TestOpenLoopKeepsSchedule(t *testing.T) {
	t.Parallel()
	for _, arrival := range []string{schedule.KindConstant, schedule.KindPoisson, schedule.KindGamma} {
		t.Run(arrival, func(t *testing.T) {
			t.Parallel()
			// A slow server: 1 s to the first token, so requests pile up in flight.
			srv := &fakeServer{ttft: time.Second, itl: 10 * time.Millisecond, tokens: 4}
			sum, err, rows := runFake(t, srv, func(c *Config) {
				c.Mode, c.Rate, c.Arrival, c.Burstiness = loadspec.ModeRate, 200, arrival, 0.5
				c.Warmup, c.RunTime, c.Cooldown, c.Grace = time.Second, 2*time.Second, time.Second, 2*time.Second
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				if r.SentNs != r.DueNs || r.User != -1 {
					t.Fatalf("request %d due %v sent %v user %d: want sent when due", r.Seq, r.DueNs, r.SentNs, r.User)
				}
			}
			if sum.AchievedRate != sum.ScheduledRate || math.Abs(sum.ScheduledRate-200)/200 > 0.1 {
				t.Errorf("requested %v, scheduled %v, achieved %v req/s", sum.RequestedRate, sum.ScheduledRate, sum.AchievedRate)
			}
			if arrival == schedule.KindConstant && (len(rows) != 800 || sum.ScheduledRate != 200) {
				t.Errorf("constant 200 req/s over 4 s: %d requests, scheduled %v req/s; want 800, 200", len(rows), sum.ScheduledRate)
			}
			if sum.PeakInFlight < 190 || sum.SendLag.P99 != 0 || len(sum.Limits) != 0 {
				t.Errorf("peak in flight %d, send lag p99 %v, limits %v", sum.PeakInFlight, sum.SendLag.P99, sum.Limits)
			}
		})
	}
}

// TestInflightCap: a cap that binds makes requests late, then not sent, and says so.
func TestInflightCap(t *testing.T) {
	t.Parallel()
	srv := &fakeServer{ttft: 100 * time.Millisecond, itl: 0, tokens: 2}
	sum, err, rows := runFake(t, srv, func(c *Config) {
		c.Mode, c.Rate, c.Arrival, c.MaxInflight, c.RunTime = loadspec.ModeRate, 100, schedule.KindConstant, 2, time.Second
	})
	if err != nil {
		t.Fatal(err)
	}
	var late, notSent int
	for _, r := range rows {
		switch {
		case r.ErrorKind == results.ErrorNotSent:
			notSent++
			if r.SentNs != 0 || r.DueNs > int64(time.Second) {
				t.Errorf("not-sent request %d: sent %v due %v", r.Seq, r.SentNs, r.DueNs)
			}
		case r.SentNs > r.DueNs:
			late++
		}
	}
	// 2 slots of 100 ms serve 20 req/s of the 100 due: about 80 due requests are never sent.
	if sum.Sent < 19 || sum.Sent > 22 || notSent < 75 || notSent != sum.NotSent || late == 0 || sum.PeakInFlight != 2 {
		t.Fatalf("sent %d, not sent %d (summary %d), late %d, peak in flight %d", sum.Sent, notSent, sum.NotSent, late, sum.PeakInFlight)
	}
	if !strings.Contains(strings.Join(sum.Limits, "\n"), "in-flight cap (2)") {
		t.Errorf("limits %q do not name the cap", sum.Limits)
	}
	if sum.ScheduledRate != 100 || sum.AchievedRate > 25 {
		t.Errorf("scheduled %v, achieved %v req/s", sum.ScheduledRate, sum.AchievedRate)
	}
}

// TestPhases: requests are marked by the window they end in; the summary counts the
// measured window only.
func TestPhases(t *testing.T) {
	t.Parallel()
	srv := &fakeServer{ttft: 250 * time.Millisecond, itl: 0, tokens: 1}
	sum, err, rows := runFake(t, srv, func(c *Config) {
		c.Concurrency, c.Warmup, c.RunTime, c.Cooldown = 1, time.Second, 2*time.Second, time.Second
	})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, r := range rows {
		count[r.Phase]++
		if want := phaseAt(time.Duration(r.EndNs)); r.Phase != want {
			t.Errorf("request ending at %v marked %s, want %s", time.Duration(r.EndNs), r.Phase, want)
		}
	}
	// One request every 250 ms ends at 250, 500, 750 ms (warm-up), 1 s … 2.75 s (measured), 3 s … 4 s.
	if count[results.PhaseWarmup] != 3 || count[results.PhaseMeasure] != 8 || count[results.PhaseCooldown] != 5 {
		t.Fatalf("phases %v, want 3 warmup, 8 measure, 5 cooldown", count)
	}
	if sum.Succeeded != 8 || sum.Window != 2*time.Second || sum.RequestThroughput != 4 || sum.Phases[results.PhaseWarmup] != 3 {
		t.Fatalf("summary: %d succeeded in a %v window, %v req/s, phases %v", sum.Succeeded, sum.Window, sum.RequestThroughput, sum.Phases)
	}
}

func phaseAt(end time.Duration) string {
	switch {
	case end < time.Second:
		return results.PhaseWarmup
	case end < 3*time.Second:
		return results.PhaseMeasure
	}
	return results.PhaseCooldown
}

// TestInterrupt: cancelling the context stops sending at once; requests in flight may finish
// within the grace period, the others are cancelled and recorded; the file is still written.
func TestInterrupt(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		fast := &fakeServer{ttft: 300 * time.Millisecond, tokens: 1}
		slow := &fakeServer{ttft: time.Hour, tokens: 1}
		dial, stop := serveTwo(fast, slow)
		defer stop()
		cfg := baseConfig(dial)
		cfg.Targets = []string{"http://fast:1", "http://slow:1"}
		cfg.Concurrency, cfg.RunTime, cfg.Grace = 4, time.Minute, 500*time.Millisecond
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(1100*time.Millisecond, cancel)
		sink := &MemorySink{}
		start := time.Now()
		r, err := New(cfg, sink)
		if err != nil {
			t.Fatal(err)
		}
		sum, err := r.Run(ctx)
		if took := time.Since(start); took != 1600*time.Millisecond {
			t.Errorf("Run took %v, want the Ctrl-C at 1.1 s plus 0.5 s of grace", took)
		}
		if err != nil {
			t.Fatal(err)
		}
		var cancelled, ok int
		for _, rec := range sink.Rows() {
			switch {
			case rec.OK():
				ok++
				if rec.EndNs > int64(1600*time.Millisecond) {
					t.Errorf("a request ended at %v, after the grace period", time.Duration(rec.EndNs))
				}
			case rec.ErrorKind == results.ErrorCancelled && strings.Contains(rec.Error, "Ctrl-C"):
				cancelled++
			default:
				t.Errorf("unexpected record %s: %s", rec.ErrorKind, rec.Error)
			}
		}
		// Two slots on the slow target hang until cancelled; those on the fast one finish.
		if cancelled != 2 || ok < 6 || !sum.Interrupted || sum.Window != 1100*time.Millisecond || !sink.Closed() {
			t.Fatalf("%d cancelled, %d ok, interrupted %v, window %v", cancelled, ok, sum.Interrupted, sum.Window)
		}
		if p := r.Progress(); p.Phase != "done" || p.InFlight != 0 {
			t.Errorf("progress after the run: %+v", p)
		}
	})
}

// TestNeverHangs: a server that never answers cannot keep the run past its time plus grace;
// with a cool-down, requests still running at its end are cancelled at once (they can count
// in no window).
func TestNeverHangs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cooldown, took time.Duration
		sent           int
		cause          string
	}{
		{cooldown: time.Second, took: 3 * time.Second, sent: 30, cause: "cool-down ended"},
		{cooldown: 0, took: 4 * time.Second, sent: 20, cause: "grace period"},
	}
	for _, tt := range tests {
		t.Run(tt.cooldown.String(), func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				dial, stop := serveInMemory(&fakeServer{fault: "hang"})
				defer stop()
				cfg := baseConfig(dial)
				cfg.Mode, cfg.Rate, cfg.Arrival = loadspec.ModeRate, 10, schedule.KindConstant
				cfg.Warmup, cfg.RunTime, cfg.Cooldown, cfg.Grace = time.Second, time.Second, tt.cooldown, 2*time.Second
				sink := &MemorySink{}
				start := time.Now()
				sum, err := Run(t.Context(), cfg, sink)
				if took := time.Since(start); took != tt.took {
					t.Errorf("Run took %v, want %v", took, tt.took)
				}
				if !errors.Is(err, ErrAllFailed) || sum.Failures[results.ErrorCancelled] != tt.sent {
					t.Fatalf("error %v, failures %v; want %d cancelled", err, sum.Failures, tt.sent)
				}
				if rows := sink.Rows(); !strings.Contains(rows[0].Error, tt.cause) {
					t.Errorf("cancelled because %q, want %q", rows[0].Error, tt.cause)
				}
			})
		})
	}
}

// TestTargets: with several targets, requests go to the least busy one.
func TestTargets(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		fast := &fakeServer{ttft: 10 * time.Millisecond, tokens: 1}
		slow := &fakeServer{ttft: 500 * time.Millisecond, tokens: 1}
		dial, stop := serveTwo(fast, slow)
		defer stop()
		cfg := baseConfig(dial)
		cfg.Targets = []string{"http://slow:1/v1", "http://fast:1/"}
		cfg.Concurrency, cfg.RunTime = 2, 2*time.Second
		if _, err := Run(t.Context(), cfg, &MemorySink{}); err != nil {
			t.Fatal(err)
		}
		// One slot sits on the slow target; the other cycles on the fast one.
		if s, f := slow.hits.Load(), fast.hits.Load(); s < 3 || f < 20*s {
			t.Fatalf("slow target got %d requests, fast one %d", s, f)
		}
	})
}

// TestWorkerShare: each worker takes its share of the users and names its own file.
func TestWorkerShare(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ worker, users int }{{0, 3}, {1, 2}} {
		srv := &fakeServer{ttft: 100 * time.Millisecond, tokens: 1}
		sum, err, rows := runFake(t, srv, func(c *Config) {
			c.Mode, c.Users, c.WorkerCount, c.WorkerID, c.RunTime = loadspec.ModeUsers, 5, 2, tt.worker, 200*time.Millisecond
		})
		if err != nil {
			t.Fatal(err)
		}
		users := map[int32]bool{}
		for _, r := range rows {
			users[r.User] = true
			if r.WorkerID != int32(tt.worker) {
				t.Fatalf("record of worker %d in worker %d's run", r.WorkerID, tt.worker)
			}
		}
		if len(users) != tt.users || sum.Users != tt.users {
			t.Errorf("worker %d ran %d users (summary %d), want %d", tt.worker, len(users), sum.Users, tt.users)
		}
	}
}

// TestSpawnRate: users start at the spawn rate and think between requests.
func TestSpawnRate(t *testing.T) {
	t.Parallel()
	srv := &fakeServer{ttft: 100 * time.Millisecond, tokens: 1}
	_, err, rows := runFake(t, srv, func(c *Config) {
		c.Mode, c.Users, c.SpawnRate, c.ThinkTime, c.RunTime = loadspec.ModeUsers, 4, 2, 400*time.Millisecond, 2*time.Second
	})
	if err != nil {
		t.Fatal(err)
	}
	firstSend := map[int32]int64{}
	perUser := map[int32]int{}
	for _, r := range rows {
		if _, ok := firstSend[r.User]; !ok || r.SentNs < firstSend[r.User] {
			firstSend[r.User] = r.SentNs
		}
		perUser[r.User]++
	}
	for u := int32(0); u < 4; u++ {
		if want := int64(u) * int64(500*time.Millisecond); firstSend[u] != want {
			t.Errorf("user %d first sent at %v, want %v", u, time.Duration(firstSend[u]), time.Duration(want))
		}
	}
	// User 0 sends every 500 ms (100 ms request + 400 ms think) over 2 s: 4 requests.
	if perUser[0] != 4 {
		t.Errorf("user 0 sent %d requests, want 4", perUser[0])
	}
}

// TestParquetSink: a run writes requests.parquet that reads back whole.
func TestParquetSink(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var want int
	synctest.Test(t, func(t *testing.T) {
		dial, stop := serveInMemory(&fakeServer{ttft: 20 * time.Millisecond, itl: 5 * time.Millisecond})
		defer stop()
		sink, err := NewParquetSink(dir, 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		sum, err := Run(t.Context(), baseConfig(dial), sink)
		if err != nil {
			t.Fatal(err)
		}
		want = sum.Sent
	})
	rows, err := results.ReadRequests(filepath.Join(dir, "requests.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != want || len(rows[0].ITLNs) != 7 || rows[0].ExperimentID != "exp1" {
		t.Fatalf("read %d rows (want %d), first ITL %v", len(rows), want, rows[0].ITLNs)
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	good := Config{Load: loadspec.Load{Intensity: loadspec.Intensity{Mode: loadspec.ModeRate, Rate: 1}, Targets: []string{"http://h:1"}, Model: "m", RunTime: time.Second}, Prompts: testPrompts(1)}
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no target", func(c *Config) { c.Targets = nil }, "no target"},
		{"bad target", func(c *Config) { c.Targets = []string{"h:1"} }, `target "h:1"`},
		{"api", func(c *Config) { c.API = "embeddings" }, "api"},
		{"mode", func(c *Config) { c.Mode = "burst" }, "mode"},
		{"rate", func(c *Config) { c.Rate = 0 }, "rate 0"},
		{"arrival", func(c *Config) { c.Arrival = "zipf" }, "arrival"},
		{"users per worker", func(c *Config) { c.Mode, c.Users, c.WorkerCount = loadspec.ModeUsers, 1, 2 }, "at least one per worker"},
		{"worker id", func(c *Config) { c.WorkerID = 3 }, "worker 3 of 1"},
		{"chat needs text", func(c *Config) { c.API, c.Prompts[0].Text = loadspec.APIChat, "" }, "chat API takes text"},
		{"run time", func(c *Config) { c.RunTime = 0 }, "run time"},
		{"negative grace", func(c *Config) { c.Grace = -time.Second }, "grace"},
		{"negative connect rate", func(c *Config) { c.ConnectRate = -5 }, "connect rate -5"},
		{"negative ramp", func(c *Config) { c.Mode, c.Concurrency, c.StartRamp = loadspec.ModeConcurrency, 2, -time.Second }, "start ramp -1s is negative"},
		{"ramp in rate mode", func(c *Config) { c.StartRamp = time.Second }, "a ramp applies to users and concurrency"},
		{"ramp and spawn rate", func(c *Config) { c.Mode, c.Users, c.SpawnRate, c.StartRamp = loadspec.ModeUsers, 2, 4, time.Second },
			"start ramp 1s and spawn rate 4 both say how users start"},
	}
	for _, tt := range tests {
		c := good
		c.Prompts = testPrompts(1)
		tt.edit(&c)
		_, err := New(c, &MemorySink{})
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want ErrConfig mentioning %q", tt.name, err, tt.want)
		}
	}
	if _, err := New(good, &MemorySink{}); err != nil {
		t.Errorf("good config: %v", err)
	}
}

// TestBodyHeldOpenAfterDone: a server that keeps the body open after [DONE] costs the request
// nothing (it succeeded when [DONE] came) and holds the user back one second at most.
func TestBodyHeldOpenAfterDone(t *testing.T) {
	t.Parallel()
	srv := &fakeServer{ttft: 10 * time.Millisecond, itl: 10 * time.Millisecond, tokens: 2, holdOpen: true}
	sum, err, rows := runFake(t, srv, func(c *Config) { c.Concurrency, c.RunTime = 1, 1500*time.Millisecond })
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || !rows[0].OK() || rows[0].EndNs != int64(20*time.Millisecond) || sum.Connections != 2 {
		t.Fatalf("%d records (want 2, one a second), first %s %s ending at %v, %d connections",
			len(rows), rows[0].ErrorKind, rows[0].Error, time.Duration(rows[0].EndNs), sum.Connections)
	}
}

func TestRunOnceAndCancelledStart(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		dial, stop := serveInMemory(&fakeServer{tokens: 1})
		defer stop()
		cfg := baseConfig(dial)
		cfg.StartAt = time.Now().Add(time.Hour)
		sink := &MemorySink{}
		r, err := New(cfg, sink)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		if _, err := r.Run(ctx); !errors.Is(err, context.DeadlineExceeded) || !sink.Closed() || len(sink.Rows()) != 0 {
			t.Fatalf("cancelled before the agreed start: %v, sink closed %v", err, sink.Closed())
		}
		if _, err := r.Run(t.Context()); err == nil || !strings.Contains(err.Error(), "twice") {
			t.Fatalf("second Run: %v", err)
		}
	})
}

// serveTwo serves fast and slow in memory: addresses starting with "slow" reach slow, the
// rest fast.
func serveTwo(fast, slow *fakeServer) (dial func(context.Context, string, string) (net.Conn, error), stop func()) {
	dialFast, stopFast := serveInMemory(fast)
	dialSlow, stopSlow := serveInMemory(slow)
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if strings.HasPrefix(addr, "slow") {
			return dialSlow(ctx, network, addr)
		}
		return dialFast(ctx, network, addr)
	}, func() { stopFast(); stopSlow() }
}
