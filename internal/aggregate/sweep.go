package aggregate

import (
	"cmp"
	"slices"

	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/sweep"
)

// fillSweep sets a sweep point's load level (fillIdentity has set its place), in requests/s
// so that the points of a sweep lie on one axis: the rate a rate point was offered, and the
// throughput the sync and throughput points reached (a closed loop has no rate of its own).
func fillSweep(r *Row, e results.Experiment) {
	sw := e.Load.Sweep
	if sw == nil {
		return
	}
	r.LoadLevel = e.Load.Rate
	if sw.Stage != sweep.StageRate {
		r.LoadLevel = V(r.RequestThroughput)
	}
}

// MarkKnees finds the knee of every sweep among rows (sweep.Knee over its finished points):
// it sets sweep_knee on the knee's row and the reason on every point of the sweep. A sweep
// whose sync or throughput point did not finish, or with no finished rate point, has no knee,
// and its reason says so.
func MarkKnees(rows []Row) {
	bySweep := map[string][]*Row{}
	var order []string
	for i := range rows {
		r := &rows[i]
		if r.SweepID == "" {
			continue
		}
		if _, ok := bySweep[r.SweepID]; !ok {
			order = append(order, r.SweepID)
		}
		bySweep[r.SweepID] = append(bySweep[r.SweepID], r)
	}
	for _, id := range order {
		markKnee(bySweep[id])
	}
}

func markKnee(rs []*Row) {
	slices.SortStableFunc(rs, func(a, b *Row) int {
		return cmp.Or(cmp.Compare(stageRank(a.SweepStage), stageRank(b.SweepStage)), cmp.Compare(a.Rate, b.Rate))
	})
	var pts []sweep.Point
	var done []*Row
	stages := map[string]bool{}
	for _, r := range rs {
		if r.Status != results.StatusDone || r.RequestThroughput == nil {
			continue
		}
		p := sweep.Point{Name: r.SweepStage, Achieved: *r.RequestThroughput}
		if r.SweepStage == sweep.StageRate {
			p.Requested, p.Offered = r.Rate, r.Rate
			if r.ScheduledRate != nil {
				p.Offered = *r.ScheduledRate // what the Poisson draw put in the window
			}
		}
		pts, done, stages[r.SweepStage] = append(pts, p), append(done, r), true
	}
	reason := ""
	switch {
	case !stages[sweep.StageSync] || !stages[sweep.StageThroughput]:
		reason = "no knee: the sweep's sync or throughput point did not finish"
	case !stages[sweep.StageRate]:
		reason = "no knee: no rate point of the sweep finished"
	}
	if reason == "" {
		var knee int
		knee, reason = sweep.Knee(pts)
		done[knee].SweepKnee = true
	}
	for _, r := range rs {
		r.SweepKneeReason = reason
	}
}

func stageRank(stage string) int {
	switch stage {
	case sweep.StageSync:
		return 0
	case sweep.StageThroughput:
		return 1
	}
	return 2
}

// LoadMode is the load the row's experiment ran: its mode, or for a sweep's point the
// closed loop (concurrency) of its sync and throughput points or the open loop (rate) of
// its rate points.
func (r *Row) LoadMode() loadspec.Mode {
	switch {
	case r.SweepStage == "":
		return loadspec.Mode(r.Mode)
	case r.SweepStage == sweep.StageRate:
		return loadspec.ModeRate
	}
	return loadspec.ModeConcurrency
}

// ModeLevel is the load level in LoadMode's unit: a sweep point's concurrency or rate (its
// load_level is in requests/s for every point), else load_level.
func (r *Row) ModeLevel() float64 {
	switch r.SweepStage {
	case "":
		return r.LoadLevel
	case sweep.StageRate:
		return r.Rate
	}
	return float64(r.Concurrency)
}
