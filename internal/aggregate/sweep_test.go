package aggregate

import (
	"strings"
	"testing"

	"github.com/llmscale/llmscale/internal/results"
)

// TestMarkKnees: the knee of each sweep is marked on one row, found among its finished
// points (a failed rate point is left out, not read as falling behind), with the reason on
// every point; a sweep without its throughput point has no knee; other rows are untouched.
func TestMarkKnees(t *testing.T) {
	t.Parallel()
	point := func(id, stage string, rate, scheduled, achieved float64, status string) Row {
		r := Row{ExpID: id + "-" + stage, SweepID: id, SweepStage: stage, Rate: rate, Status: status, RequestThroughput: F(achieved)}
		if scheduled > 0 {
			r.ScheduledRate = F(scheduled)
		}
		return r
	}
	done, failed := results.StatusDone, results.StatusFailed
	rows := []Row{
		{ExpID: "plain", Status: done, RequestThroughput: F(3)},
		// listed out of order: the rates are sorted by rate
		point("a", "rate", 8, 8.1, 6.0, done), point("a", "sync", 0, 0, 2, done), point("a", "rate", 4, 3.9, 3.9, done),
		point("a", "throughput", 0, 0, 10, done), point("a", "rate", 6, 6, 5.8, done), point("a", "rate", 7, 7, 0, failed),
		point("b", "sync", 0, 0, 2, done), point("b", "rate", 4, 4, 4, done), point("b", "throughput", 0, 0, 10, failed),
	}
	MarkKnees(rows)
	knees := map[string]bool{}
	for _, r := range rows {
		if r.SweepKnee {
			knees[r.ExpID] = true
		}
	}
	if len(knees) != 1 || !knees["a-rate"] {
		t.Errorf("knees %v, want only a's rate point", knees)
	}
	for _, r := range rows {
		switch {
		case r.SweepKnee && r.Rate != 6:
			t.Errorf("the knee of a is at rate %g, want 6 (8 was kept up with below 95%%; 7 failed)", r.Rate)
		case r.SweepID == "a" && !strings.Contains(r.SweepKneeReason, "above it the server fell behind"):
			t.Errorf("%s: reason %q", r.ExpID, r.SweepKneeReason)
		case r.SweepID == "b" && !strings.Contains(r.SweepKneeReason, "no knee: the sweep's sync or throughput point did not finish"):
			t.Errorf("%s: reason %q", r.ExpID, r.SweepKneeReason)
		case r.SweepID == "" && r.SweepKneeReason != "":
			t.Errorf("a row outside any sweep got a reason: %q", r.SweepKneeReason)
		}
	}
}
