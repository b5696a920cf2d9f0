package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/llmscale/llmscale/internal/loadspec"
)

// TestTargetRefuses: a target that refuses connections is taken out of the balancer and
// sending stops at once, with ErrTargetDown naming it, instead of the dead port taking most of
// the load (a refused connect is instant, so it always looks the least busy) to the end of the
// window.
func TestTargetRefuses(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		live := &fakeServer{ttft: 10 * time.Millisecond, tokens: 2}
		dialLive, stop := serveInMemory(live)
		defer stop()
		cfg := baseConfig(func(ctx context.Context, network, addr string) (net.Conn, error) {
			if strings.HasPrefix(addr, "dead") {
				return nil, &net.OpError{Op: "dial", Net: network, Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
			}
			return dialLive(ctx, network, addr)
		})
		cfg.Targets = []string{"http://live:1", "http://dead:1"}
		cfg.Concurrency, cfg.RunTime = 4, time.Minute
		sink := &MemorySink{}
		start := time.Now()
		sum, err := Run(t.Context(), cfg, sink)
		if !errors.Is(err, ErrTargetDown) || !strings.Contains(err.Error(), "http://dead:1") {
			t.Fatalf("got %v, want ErrTargetDown naming http://dead:1", err)
		}
		if took := time.Since(start); took >= time.Second {
			t.Errorf("Run took %v of a one-minute window: sending did not stop when a target went down", took)
		}
		dead := 0
		for _, r := range sink.Rows() {
			if r.Target == "http://dead:1" {
				dead++
			}
		}
		if dead < 1 || dead > cfg.Concurrency {
			t.Errorf("%d requests went to the dead target, want 1 to %d", dead, cfg.Concurrency)
		}
		if len(sum.TargetsDown) != 1 || sum.TargetsDown[0] != "http://dead:1" {
			t.Errorf("summary targets down: got %v", sum.TargetsDown)
		}
	})
}

// TestPickSkipsDown: the balancer never picks a target that is down while another is up, and
// still picks one when all are down.
func TestPickSkipsDown(t *testing.T) {
	t.Parallel()
	r := &Runner{plan: plan{targets: []*target{{base: "a"}, {base: "b"}, {base: "c"}}}}
	r.targets[1].down.Store(true)
	for range 30 {
		if got := r.pick(); got.base == "b" {
			t.Fatal("picked the target that is down")
		}
	}
	for _, tg := range r.targets {
		tg.down.Store(true)
	}
	if got := r.pick(); got == nil {
		t.Fatal("no target picked when all are down")
	}
}

// TestMergeTargetsDown: the targets any worker took out of its balancer survive the merge
// and the trip through a worker's summary file.
func TestMergeTargetsDown(t *testing.T) {
	t.Parallel()
	path := t.TempDir() + "/summary-0.json"
	doc := Summary{WorkerCount: 2, TargetsDown: []string{"http://b:1"}}.JSON()
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	p0, err := ReadSummary(path)
	if err != nil {
		t.Fatal(err)
	}
	p1 := Summary{WorkerID: 1, TargetsDown: []string{"http://b:1", "http://c:1"}}
	cfg := Config{Load: loadspec.Load{Intensity: loadspec.Intensity{Mode: loadspec.ModeUsers, Users: 2}, Targets: []string{"http://a:1", "http://b:1", "http://c:1"}, WorkerCount: 2, RunTime: time.Second}}
	got := Merge(cfg, nil, []Summary{p0, p1}).TargetsDown
	if strings.Join(got, " ") != "http://b:1 http://c:1" {
		t.Errorf("merged targets down: got %v", got)
	}
}
