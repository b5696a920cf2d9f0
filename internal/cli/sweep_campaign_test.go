package cli

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmscale/llmscale/internal/aggregate"
	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/scaling"
)

// sweepMatrix is a simulator campaign that sweeps two server configurations in short windows.
func sweepMatrix(t *testing.T, dir, model string) {
	t.Helper()
	write(t, filepath.Join(dir, "m.yaml"), fmt.Sprintf(`campaign: t
engine: sim
model: %s
factors:
  dp: [1, 2]
  sweep: [2]
  prompts: ["random:64:16"]
load: {run_time: 1200ms, warmup: 200ms, cooldown: 0s, grace: 2s, sweep_max_concurrency: 32}
server:
  startup_timeout: 20s
  stop_grace: 2s
  sim: {speedup: 4}
`, model))
}

// TestRunSweepCampaign: a sweep in a run campaign measures sync, throughput and the rates
// between as experiments of the results tree, the rates spaced between what the first two
// measured; the knee is one row of summary_metrics per sweep and is each configuration's
// capacity in the scaling fits. Run again, a rate point gets the same rate from the recorded
// points; on its own in a fresh tree it fails, saying its sync point has not run.
func TestRunSweepCampaign(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	model := uniqueModel(t)
	sweepMatrix(t, dir, model)
	r := runInProcess(t, dir, "run", "-m", "m.yaml", "--results", "res")
	if r.code != ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	noneLeft(t, model)
	root := filepath.Join(dir, "res")
	if n := strings.Count(r.stderr, "knee at t_G"); n != 2 {
		t.Errorf("%d knees printed, want one per sweep; stderr:\n%s", n, r.stderr)
	}
	syncRec := readRecord(t, root, "t_G1_TP1_DP1_SW2-sync_rand64x16_O16")
	if syncRec.Load.Mode != "sweep" || syncRec.Load.Concurrency != 1 || syncRec.Load.Sweep == nil || syncRec.Load.Sweep.Stage != "sync" {
		t.Errorf("sync point: load %+v", syncRec.Load)
	}
	r1 := readRecord(t, root, "t_G1_TP1_DP1_SW2-r1_rand64x16_O16")
	r2 := readRecord(t, root, "t_G1_TP1_DP1_SW2-r2_rand64x16_O16")
	sw := r1.Load.Sweep
	if sw == nil || !(sw.SyncRPS > 0 && sw.SyncRPS < r1.Load.Rate && r1.Load.Rate < r2.Load.Rate && r2.Load.Rate < sw.ThroughputRPS) {
		t.Fatalf("rates %g, %g not strictly between sync and throughput: %+v", r1.Load.Rate, r2.Load.Rate, sw)
	}
	if want := sw.SyncRPS + (sw.ThroughputRPS-sw.SyncRPS)/3; !near(r1.Load.Rate, want) {
		t.Errorf("rate 1 of 2 is %g req/s, want a third of the way: %g", r1.Load.Rate, want)
	}

	rows, err := aggregate.Read(filepath.Join(root, "agg"))
	if err != nil {
		t.Fatal(err)
	}
	knees := map[string]aggregate.Row{}
	for _, row := range rows {
		if row.Status != results.StatusDone || row.SweepKneeReason == "" {
			t.Errorf("%s: status %s, knee reason %q", row.ExpID, row.Status, row.SweepKneeReason)
		}
		if row.SweepKnee {
			knees[row.ServerID] = row
		}
	}
	if len(rows) != 8 || len(knees) != 2 {
		t.Fatalf("%d rows, knees %v; want 8 rows and one knee per configuration", len(rows), knees)
	}
	fits, err := results.ReadParquet[scaling.ScalingRow](filepath.Join(root, "agg", "scaling_fits.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fits {
		knee := knees[fmt.Sprintf("G%d_TP1_DP%d", f.GPUs, f.GPUs)]
		if f.ExpIDs != knee.ExpID || !strings.HasPrefix(f.SaturatedBy, "sweep knee ") {
			t.Errorf("%s at %d GPUs: point %s (%s), want the knee %s", f.Series, f.GPUs, f.ExpIDs, f.SaturatedBy, knee.ExpID)
		}
	}

	// Again, one rate point: its rate comes from the recorded sync and throughput points.
	r = runInProcess(t, dir, "run", "-m", "m.yaml", "--results", "res", "--no-analysis", "--force", "--only", "*DP1_SW2-r2_*")
	if again := readRecord(t, root, "t_G1_TP1_DP1_SW2-r2_rand64x16_O16"); r.code != ExitOK || again.Load.Rate != r2.Load.Rate {
		t.Errorf("resumed rate point: exit %d, rate %g, want %g; stderr:\n%s", r.code, again.Load.Rate, r2.Load.Rate, r.stderr)
	}
	// Alone in a fresh tree, a rate point cannot know its rate: it fails and says why.
	r = runInProcess(t, dir, "run", "-m", "m.yaml", "--results", "fresh", "--no-analysis", "--only", "*DP1_SW2-r1_*")
	lone := readRecord(t, filepath.Join(dir, "fresh"), "t_G1_TP1_DP1_SW2-r1_rand64x16_O16")
	if r.code == ExitOK || lone.Status != results.StatusFailed || !strings.Contains(lone.Reason, "sync point t_G1_TP1_DP1_SW2-sync_rand64x16_O16 has not run") {
		t.Errorf("lone rate point: exit %d, status %s, reason %q", r.code, lone.Status, lone.Reason)
	}
	noneLeft(t, model)
}

func readRecord(t *testing.T, root, id string) results.Experiment {
	t.Helper()
	rec, err := results.ReadExperiment(results.Dir(root, id))
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func near(a, b float64) bool { return a-b < 1e-9*b && b-a < 1e-9*b }
