package resultstree

import (
	"github.com/llmscale/llmscale/internal/aggregate"
	"github.com/llmscale/llmscale/internal/reportdata"
	"github.com/llmscale/llmscale/internal/sweep"
)

// curveSaturation is where a load curve's throughput stops growing, with the reason: the
// sweep's own knee when the curve is a sweep (summary_metrics' sweep_knee; the first repeat's
// when there are several), else the knee of the curve as package sweep finds it
// (sweep.CurveKnee: the highest rate kept up with on an open-loop curve, the start of the
// plateau on a closed-loop one). Nil when the curve did not reach one, so a curve that still
// grows at its heaviest load has no mark rather than one on its last point.
func curveSaturation(rs []*aggregate.Row, pts []reportdata.LoadPoint) (*float64, string) {
	var knee *aggregate.Row
	for _, r := range rs {
		if r.SweepKnee && (knee == nil || r.Repeat < knee.Repeat) {
			knee = r
		}
	}
	if knee != nil {
		return reportdata.Opt(knee.LoadLevel), knee.SweepKneeReason
	}
	if len(rs) > 0 && rs[0].Mode == "sweep" {
		return nil, rs[0].SweepKneeReason
	}
	open := len(rs) > 0 && rs[0].Mode == "rate"
	levels := make([]sweep.Level, len(pts))
	for i, p := range pts {
		levels[i] = sweep.Level{Load: p.Load, Achieved: p.RequestThroughput, Throughput: p.Throughput}
		if open {
			levels[i].Offered = meanOf(rowsAt(rs, p.Load), scheduledRate)
		}
	}
	i, why := sweep.CurveKnee(levels)
	if i < 0 {
		return nil, why
	}
	return reportdata.Opt(pts[i].Load), why
}

// scheduledRate is the rate due in a rate experiment's window (a Poisson draw differs from
// the rate asked for), else the rate asked for.
func scheduledRate(r *aggregate.Row) *float64 {
	if r.ScheduledRate != nil {
		return r.ScheduledRate
	}
	return &r.Rate
}

func rowsAt(rs []*aggregate.Row, load float64) []*aggregate.Row {
	var out []*aggregate.Row
	for _, r := range rs {
		if r.LoadLevel == load {
			out = append(out, r)
		}
	}
	return out
}
