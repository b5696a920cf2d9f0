package sim

import (
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/llmscale/llmscale/internal/gpu"
)

func TestActivityUsage(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	a := newActivity(2)
	// Rank 0: a memory-bound step (CPU 2 ms, kernels 6 ms of which compute 3, all-reduce 2 ms)
	// from 0 to 10 ms, then nothing. Rank 1 idle.
	a.add(0, 0, StepParts{CPU: 2 * ms, Compute: 3 * ms, Memory: 6 * ms, AllReduce: 2 * ms})
	tests := []struct {
		name        string
		now, window time.Duration
		want        Usage
	}{
		{"whole step", 10 * ms, 10 * ms, Usage{Busy: 0.8, SM: 0.6, Tensor: 0.3, DRAM: 0.6, Reduces: 0.2}},
		{"window of 20 ms", 20 * ms, 20 * ms, Usage{Busy: 0.4, SM: 0.3, Tensor: 0.15, DRAM: 0.3, Reduces: 0.1}},
		{"only the CPU part so far", 2 * ms, 2 * ms, Usage{}},
		{"future work not counted", 5 * ms, 5 * ms, Usage{Busy: 0.6, SM: 0.6, Tensor: 0.3, DRAM: 0.6}},
		{"long after", time.Second, 100 * ms, Usage{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := a.Usage(0, tt.now, tt.window)
			for _, c := range []struct {
				name      string
				got, want float64
			}{{"busy", got.Busy, tt.want.Busy}, {"sm", got.SM, tt.want.SM}, {"tensor", got.Tensor, tt.want.Tensor},
				{"dram", got.DRAM, tt.want.DRAM}, {"reduces", got.Reduces, tt.want.Reduces}} {
				if math.Abs(c.got-c.want) > 1e-9 {
					t.Errorf("%s = %g, want %g", c.name, c.got, c.want)
				}
			}
		})
	}
	if u := a.Usage(1, 10*ms, 10*ms); u != (Usage{}) {
		t.Errorf("idle rank: %+v, want zero", u)
	}
}

// TestSimulatedGPUTelemetry: under a saturating load a GPU-bound configuration (70B on one
// B200 per rank: 23 ms of weight reads a step against 2 ms of CPU) reads busy through
// llmscale's own DCGM parser, labelled as simulated; once the load is gone it reads idle.
func TestSimulatedGPUTelemetry(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := startBubble(t, Config{GPU: "b200", ModelProfile: "llama-3-70b", DP: 2, MaxNumSeqs: 32})
		var wg sync.WaitGroup
		for i := range 128 {
			wg.Go(func() {
				resp, err := b.do(t, "/v1/completions", streamBody(200), fmt.Sprintf("r%d", i))
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			})
		}
		time.Sleep(3 * time.Second)
		busy := scrapeGPUs(t, b)
		wg.Wait()
		time.Sleep(5 * time.Second)
		idle := scrapeGPUs(t, b)
		if err := b.stop(); err != nil {
			t.Fatal(err)
		}
		if len(busy) != 2 || len(idle) != 2 {
			t.Fatalf("%d and %d GPUs, want 2 (DP 2)", len(busy), len(idle))
		}
		for _, r := range busy {
			if r.Name != "sim:b200" || !strings.HasPrefix(r.UUID, "SIM-") {
				t.Errorf("GPU %d named %q (%s), want sim:b200 and a SIM- UUID", r.Index, r.Name, r.UUID)
			}
			if u, sm := r.Metrics[gpu.SMUtilPct], r.Metrics[gpu.SMActivePct]; u < 90 || sm < 70 {
				t.Errorf("GPU %d under load: util %.1f%%, SM active %.1f%%; want ≥ 90 and ≥ 70", r.Index, u, sm)
			}
			if tot := r.Metrics[gpu.MemTotalMiB]; tot != 183359 {
				t.Errorf("GPU %d memory total %g MiB, want 183359", r.Index, tot)
			}
		}
		for _, r := range idle {
			if u := r.Metrics[gpu.SMUtilPct]; u != 0 {
				t.Errorf("GPU %d idle: util %.1f%%, want 0", r.Index, u)
			}
		}
	})
}

func scrapeGPUs(t *testing.T, b *bubble) []gpu.Reading {
	t.Helper()
	resp, err := b.client.Get("http://sim" + GPUMetricsPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	rs, err := gpu.ParseDCGM(data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	return rs
}

func TestGPUMetricsCadenceMode(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{Cadence: &Cadence{}})
	resp, err := ts.client.Get(ts.URL + GPUMetricsPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("status %d, want 404 (no GPU model in fixed-cadence mode)", resp.StatusCode)
	}
}
