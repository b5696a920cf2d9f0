package matrix

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/spec"
)

// TestExpandSweep: a sweep level becomes its points, in run order, sync and throughput with
// their concurrency, rate points with their index and no rate yet, all sharing the sweep's id;
// repeats get their own sweeps, and setting the sweep from outside clears the file's users.
func TestExpandSweep(t *testing.T) {
	t.Parallel()
	p := plan(t, "campaign: c\nrepeats: 2\nfactors: {dp: [1, 2], sweep: [2], prompts: ['random:8:4']}\nload: {sweep_max_concurrency: 32}")
	want := []string{
		"c_G1_TP1_DP1_SW2-sync_rand8x4_O4", "c_G1_TP1_DP1_SW2-max_rand8x4_O4", "c_G1_TP1_DP1_SW2-r1_rand8x4_O4", "c_G1_TP1_DP1_SW2-r2_rand8x4_O4",
		"c_G1_TP1_DP1_SW2-sync_rand8x4_O4_r2", "c_G1_TP1_DP1_SW2-max_rand8x4_O4_r2", "c_G1_TP1_DP1_SW2-r1_rand8x4_O4_r2", "c_G1_TP1_DP1_SW2-r2_rand8x4_O4_r2",
	}
	if diff := cmp.Diff(want, ids(p)[:8]); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	if len(p.Experiments) != 16 || len(p.Servers) != 2 {
		t.Fatalf("%d experiments on %d servers, want 16 on 2", len(p.Experiments), len(p.Servers))
	}
	type point struct {
		Stage              string
		Index, Concurrency int
		Sweep              string
	}
	var got []point
	for _, e := range p.Experiments[:4] {
		if e.Load.Mode != loadspec.ModeSweep || e.Load.Sweep == nil || e.Load.Sweep.Points != 2 || e.Load.Sweep.MaxConcurrency != 32 || e.Load.Rate != 0 {
			t.Fatalf("%s: load %+v sweep %+v", e.ID, e.Load, e.Load.Sweep)
		}
		got = append(got, point{e.Load.Sweep.Stage, e.Load.Sweep.Index, e.Load.Concurrency, e.Load.Sweep.ID})
	}
	id := "c_G1_TP1_DP1_SW2_rand8x4_O4"
	wantPts := []point{{SweepSync, 0, 1, id}, {SweepThroughput, 0, 32, id}, {SweepRate, 1, 0, id}, {SweepRate, 2, 0, id}}
	if diff := cmp.Diff(wantPts, got); diff != "" {
		t.Errorf("points (-want +got):\n%s", diff)
	}
	if r2 := p.Experiments[4].Load.Sweep.ID; r2 != id+"_r2" {
		t.Errorf("the second repeat's sweep id is %q, want %q", r2, id+"_r2")
	}

	over := plan(t, "campaign: c\nfactors: {users: [4, 8], prompts: ['random:8:4']}",
		spec.Overlay{Settings: []spec.Setting{{Key: "factors.sweep", Value: "1", From: "--set"}}})
	if !slices.Equal(ids(over), []string{"c_G1_TP1_DP1_SW1-sync_rand8x4_O4", "c_G1_TP1_DP1_SW1-max_rand8x4_O4", "c_G1_TP1_DP1_SW1-r1_rand8x4_O4"}) {
		t.Errorf("--set factors.sweep=1 over users: %v", ids(over))
	}
}
