package gpu

import (
	"context"
	"strings"
	"testing"
	"time"
)

// takeTicks runs s against real child processes until n ticks came or 20 s passed.
func takeTicks(t *testing.T, s Sampler, interval time.Duration, n int) ([]Tick, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	out := make(chan Tick)
	errc := make(chan error, 1)
	go func() { errc <- s.Run(ctx, Grid{Start: time.Now(), Interval: interval}, out); close(out) }()
	var ticks []Tick
	for tk := range out {
		if len(tk.Samples) == 4 && tk.Samples[0].Source == "nvidia-smi-dmon+nvidia-smi-query" &&
			tk.Samples[0].Metrics.Has(SMActivePct) {
			ticks = append(ticks, tk)
		}
		if len(ticks) == n {
			cancel()
		}
	}
	return ticks, <-errc
}

// TestSMISourcesWithFakeNvidiaSMI runs the query and dmon sources against the test binary
// acting as nvidia-smi (real processes, real lines from the H100 captures), merged.
func TestSMISourcesWithFakeNvidiaSMI(t *testing.T) {
	t.Parallel()
	smi := fakeSMITool(t, "h100x4")
	s := NewSampler(SamplerOptions{Poll: 50 * time.Millisecond}, &DmonSource{SMI: smi}, &QuerySource{SMI: smi})
	ticks, err := takeTicks(t, s, 100*time.Millisecond, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(ticks) != 3 {
		t.Fatalf("got %d complete ticks, want 3", len(ticks))
	}
	g0 := ticks[0].Samples[0].Metrics
	// query mode's values (the real busy capture) win over dmon's for the metrics both give
	if g0[PowerW] != 582.63 || g0[ThrottleSWPowerUs] != 628582 || g0[ClockEventReasons] != 4 {
		t.Errorf("GPU 0 query values: power %v counter %v reasons %v", g0[PowerW], g0[ThrottleSWPowerUs], g0[ClockEventReasons])
	}
	if g0[SMActivePct] != 95 || g0[TensorActivePct] < 90 {
		t.Errorf("GPU 0 GPM values: sm_active %v tensor %v", g0[SMActivePct], g0[TensorActivePct])
	}
	if u := ticks[0].Samples[3].UUID; u != "GPU-28a566f3-16af-f79b-4efc-f363369ec63b" {
		t.Errorf("GPU 3 uuid %q", u)
	}
}

func TestQuerySourceSelectsGPUs(t *testing.T) {
	t.Parallel()
	q := &QuerySource{SMI: fakeSMITool(t, "h100x4"), GPUs: []int{1, 3}}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	seen := map[int]bool{}
	err := q.Run(ctx, 20*time.Millisecond, func(r Reading) {
		seen[r.Index] = true
		if len(seen) == 2 {
			cancel()
		}
	})
	if err != nil || len(seen) != 2 || !seen[1] || !seen[3] {
		t.Fatalf("saw GPUs %v, err %v; want 1 and 3", seen, err)
	}
}

func TestQuerySourceChildFails(t *testing.T) {
	t.Parallel()
	q := &QuerySource{SMI: fakeSMITool(t, "crash")}
	n := 0
	err := q.Run(t.Context(), 10*time.Millisecond, func(Reading) { n++ })
	if err == nil || !strings.Contains(err.Error(), "Unknown Error") || n != 8 {
		t.Fatalf("got %d readings and error %v; want 8 and the child's stderr", n, err)
	}
}

func TestDmonSourceFallsBackWithoutGPM(t *testing.T) {
	t.Parallel()
	d := &DmonSource{SMI: fakeSMITool(t, "nogpm")}
	err := d.Run(t.Context(), time.Second, func(Reading) {})
	if err == nil || !strings.Contains(err.Error(), "GPM") {
		t.Fatalf("first start error %v, want the GPM refusal", err)
	}
	if strings.Contains(strings.Join(d.args(time.Second), " "), "--gpm-metrics") {
		t.Fatal("second start still asks for GPM metrics")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var got Reading
	err = d.Run(ctx, time.Second, func(r Reading) { got = r; cancel() })
	if err != nil || !got.Metrics.Has(PowerW) || got.Metrics.Has(SMActivePct) {
		t.Fatalf("without GPM: %v, %v", got, err)
	}
}

func TestSourceArgs(t *testing.T) {
	t.Parallel()
	d := &DmonSource{GPUs: []int{0, 2}}
	if got := strings.Join(d.args(2400*time.Millisecond), " "); got != "dmon -s pucv -d 2 --format csv --gpm-metrics 1,2,3,5,10,20,21,60,61 -i 0,2" {
		t.Errorf("dmon args %q", got)
	}
	d = &DmonSource{Select: "pucvmet", GPM: []int{}}
	if got := strings.Join(d.args(100*time.Millisecond), " "); got != "dmon -s pucvmet -d 1 --format csv" {
		t.Errorf("dmon args %q", got)
	}
}
