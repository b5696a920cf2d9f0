package diagnose

import (
	"reflect"
	"testing"

	"github.com/llmscale/llmscale/internal/aggregate"
	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/scaling"
)

// TestExperimentStage checks that the first stage sets each row's saturated flag and reason
// from its verdict, on a copy, and that an old flag does not change the verdict.
func TestExperimentStage(t *testing.T) {
	t.Parallel()
	saturated, idle := server(64, 100, 0.2), server(3, 0, 0.1)
	saturated.ExpID, idle.ExpID = "full", "idle"
	idle.Saturated, idle.SaturatedReason = true, "stale flag of an older version"
	failed := aggregate.Row{ExpID: "failed", Status: results.StatusFailed, FailureReason: "server crashed"}
	in := []aggregate.Row{saturated, idle, failed}
	before := append([]aggregate.Row(nil), in...)

	rows, exps := ExperimentStage(in)

	if !reflect.DeepEqual(in, before) {
		t.Error("ExperimentStage changed its input rows")
	}
	want := []struct {
		code      string
		saturated bool
	}{{CodeBatchCap, true}, {CodeNotSaturated, false}, {CodeFailed, false}}
	if len(rows) != len(want) || len(exps) != len(want) {
		t.Fatalf("%d rows, %d diagnoses; want %d", len(rows), len(exps), len(want))
	}
	for i, w := range want {
		if exps[i].ExpID != in[i].ExpID || exps[i].Verdict.Code != w.code || exps[i].Saturated != w.saturated {
			t.Errorf("row %d: %s %s saturated=%v; want %s %s saturated=%v", i, exps[i].ExpID, exps[i].Verdict.Code,
				exps[i].Saturated, in[i].ExpID, w.code, w.saturated)
		}
		if rows[i].Saturated != exps[i].Saturated || rows[i].SaturatedReason != exps[i].SaturatedReason || rows[i].SaturatedReason == "" {
			t.Errorf("row %d: flag %v %q; diagnosis %v %q", i, rows[i].Saturated, rows[i].SaturatedReason,
				exps[i].Saturated, exps[i].SaturatedReason)
		}
		if !reflect.DeepEqual(exps[i], Experiment(&rows[i])) {
			t.Errorf("row %d: the flag written changed the verdict", i)
		}
	}
}

// TestSeriesStage checks that the second stage, given the first stage's output, is All.
func TestSeriesStage(t *testing.T) {
	t.Parallel()
	n := []int{1, 2, 4}
	var in []aggregate.Row
	for _, g := range n {
		r := server(64, 100, 0.2)
		r.ExpID = scaling.StrategyTP + "-" + string(rune('0'+g))
		in = append(in, r)
	}
	fits := []scaling.Fit{fitted(t, scaling.StrategyTP, n, []float64{1000, 1500, 1900})}
	rows, exps := ExperimentStage(in)
	got := SeriesStage(rows, exps, fits)
	if want := All(in, fits); !reflect.DeepEqual(got, want) {
		t.Errorf("SeriesStage after ExperimentStage:\n%+v\nAll:\n%+v", got, want)
	}
	if len(got.Series) != 1 || got.Series[0].Verdict.Code == "" || len(got.Experiments) != len(n) || got.Thresholds == nil {
		t.Errorf("SeriesStage = %+v", got)
	}
}
