package loadgen

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmscale/llmscale/internal/host"
)

// fakeHost returns its snapshots in turn.
type fakeHost struct {
	mu    sync.Mutex
	snaps []host.Snapshot
}

func (f *fakeHost) Snapshot() (host.Snapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.snaps[0]
	if len(f.snaps) > 1 {
		f.snaps = f.snaps[1:]
	}
	return s, nil
}

// TestHostEvidence: the machine's CPU over the run is recorded beside the client's, and a
// contended host is said even though the client itself used little CPU.
func TestHostEvidence(t *testing.T) {
	t.Parallel()
	busy := &fakeHost{snaps: []host.Snapshot{
		{CPU: host.CPU{Total: 1000, Idle: 500}, Procs: map[int]host.Proc{99999999: {PID: 99999999, Comm: "vllm", Ticks: 10}}},
		{CPU: host.CPU{Total: 2000, Idle: 560, Steal: 10}, Procs: map[int]host.Proc{99999999: {PID: 99999999, Comm: "vllm", Ticks: 110}}},
	}}
	sum, err, _ := runFake(t, &fakeServer{ttft: 10 * time.Millisecond, itl: 10 * time.Millisecond}, func(c *Config) { c.Host = busy })
	if err != nil {
		t.Fatal(err)
	}
	if sum.HostCPUUtil == nil || *sum.HostCPUUtil != 0.94 || sum.HostSteal == nil || *sum.HostSteal != 0.01 || !sum.HostContended {
		t.Fatalf("host util %v steal %v contended %v; want 0.94, 0.01, true", sum.HostCPUUtil, sum.HostSteal, sum.HostContended)
	}
	if len(sum.HostSharers) != 1 || !strings.HasPrefix(sum.HostSharers[0], "vllm (pid 99999999") {
		t.Errorf("sharers %q, want the vllm process", sum.HostSharers)
	}
	var text bytes.Buffer
	if err := sum.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "host     CPU 94% busy") || !strings.Contains(text.String(), "HOST     the machine was contended") ||
		strings.Contains(text.String(), "the client did not limit the run") {
		t.Errorf("summary text:\n%s", text.String())
	}
	doc := sum.JSON()
	if doc.HostCPUUtil == nil || !doc.HostContended {
		t.Errorf("summary.json host fields: %v %v", doc.HostCPUUtil, doc.HostContended)
	}
	// Without a sampler the host is unknown: null, never 0.
	sum, _, _ = runFake(t, &fakeServer{ttft: 10 * time.Millisecond, itl: 10 * time.Millisecond}, nil)
	if sum.HostCPUUtil != nil || sum.HostSteal != nil {
		t.Errorf("no sampler: host util %v steal %v, want nil", sum.HostCPUUtil, sum.HostSteal)
	}
}
