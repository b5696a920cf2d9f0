package scaling

import (
	"strings"
	"testing"

	"github.com/llmscale/llmscale/internal/aggregate"
)

// TestSweepKneeIsCapacity: where a sweep ran, a configuration's point is its knee's
// throughput, not the throughput point's higher one; configurations without a knee keep the
// best load level.
func TestSweepKneeIsCapacity(t *testing.T) {
	t.Parallel()
	sweepRow := func(dp int, stage string, x float64, knee bool) aggregate.Row {
		r := row(1, dp, 0, x, false)
		r.ExpID += "_" + stage
		r.Mode, r.SweepID, r.SweepStage, r.SweepKnee, r.LoadLevel = "sweep", r.ExpID, stage, knee, x/100
		if knee {
			r.SweepKneeReason = "highest rate completed at ≥ 95%"
		}
		return r
	}
	rows := []aggregate.Row{
		sweepRow(1, "sync", 500, false), sweepRow(1, "throughput", 5000, false), sweepRow(1, "rate", 3000, true), sweepRow(1, "rate", 4000, false),
		sweepRow(2, "sync", 600, false), sweepRow(2, "throughput", 9000, false), sweepRow(2, "rate", 7000, false),
	}
	ss := Build(rows)
	s := find(ss, StrategyDP)
	if s == nil || len(s.Points) != 2 {
		t.Fatalf("DP series: %+v", ss)
	}
	if p := s.Points[0]; p.Throughput != 3000 || !p.Saturated || !strings.HasPrefix(p.SaturatedBy, "sweep knee ") || !strings.HasSuffix(p.ExpID, "_rate") {
		t.Errorf("1 GPU: %+v; want the knee's 3000 tok/s, saturated by the sweep knee", p)
	}
	if p := s.Points[1]; p.Throughput != 9000 {
		t.Errorf("2 GPUs without a knee: %+v; want the best level, 9000 tok/s", p)
	}
}
