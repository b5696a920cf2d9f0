package campaign

import (
	"fmt"
	"path/filepath"

	"github.com/llmscale/llmscale/internal/loadgen"
	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/matrix"
	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/sweep"
)

// sweepLoad turns a point of a sweep (mode sweep) into the load it runs: the sync and
// throughput points are closed loops at the concurrency the plan gave them; a rate point is
// an open loop at a rate spaced between the request throughputs its sweep's sync and
// throughput points measured, read from their summary.json, so a resumed campaign sets the
// same rates. Other experiments are returned as they are, with no sweep record.
func (r *Runner) sweepLoad(e matrix.Experiment) (matrix.Experiment, *results.SweepInfo, error) {
	sw := e.Load.Sweep
	if e.Load.Mode != loadspec.ModeSweep || sw == nil {
		return e, nil, nil
	}
	info := &results.SweepInfo{ID: sw.ID, Stage: sw.Stage, Points: sw.Points, Index: sw.Index}
	run := e
	if sw.Stage != matrix.SweepRate {
		run.Load.Mode = loadspec.ModeConcurrency
		return run, info, nil
	}
	var err error
	if info.SyncRPS, err = r.sweepThroughput(sw.ID, matrix.SweepSync); err != nil {
		return e, info, err
	}
	if info.ThroughputRPS, err = r.sweepThroughput(sw.ID, matrix.SweepThroughput); err != nil {
		return e, info, err
	}
	rates, err := sweep.Rates(info.SyncRPS, info.ThroughputRPS, sw.Points)
	if err != nil {
		return e, info, fmt.Errorf("%s: %w", sw.ID, err)
	}
	run.Load.Mode, run.Load.Rate = loadspec.ModeRate, rates[sw.Index-1]
	return run, info, nil
}

// sweepThroughput is the request throughput the point of stage of a sweep measured.
func (r *Runner) sweepThroughput(sweepID, stage string) (float64, error) {
	pt, ok := r.plan.SweepStage(sweepID, stage)
	if !ok {
		return 0, fmt.Errorf("sweep %s has no %s point in the plan", sweepID, stage)
	}
	p, err := readSweepPoint(results.Dir(r.opts.Results, pt.ID), stage)
	if err != nil {
		return 0, fmt.Errorf("sweep %s: the rates between its sync and throughput points cannot be set: %w", sweepID, err)
	}
	return p.Achieved, nil
}

// readSweepPoint reads what one finished point of a sweep measured from its summary.json.
func readSweepPoint(dir, stage string) (sweep.Point, error) {
	id := filepath.Base(dir)
	exp, err := results.ReadExperiment(dir)
	if err != nil {
		return sweep.Point{}, fmt.Errorf("%s point %s has not run (%w)", stage, id, err)
	}
	if exp.Status != results.StatusDone {
		return sweep.Point{}, fmt.Errorf("%s point %s is %s: %s", stage, id, exp.Status, exp.Reason)
	}
	var sum struct {
		RequestThroughput float64 `json:"request_throughput"`
		ScheduledRate     float64 `json:"scheduled_rate"`
	}
	if err := results.ReadJSON(filepath.Join(dir, loadgen.SummaryFile(0, 1)), &sum); err != nil {
		return sweep.Point{}, fmt.Errorf("%s point %s: %w", stage, id, err)
	}
	p := sweep.Point{Name: stage, Achieved: sum.RequestThroughput}
	if stage == matrix.SweepRate {
		p.Requested, p.Offered = exp.Load.Rate, sum.ScheduledRate
	}
	return p, nil
}

// noteKnee prints the knee of a sweep once its last point has run; aggregate records it
// (summary_metrics' sweep_knee) from the same measurements.
func (r *Runner) noteKnee(e matrix.Experiment) {
	sw := e.Load.Sweep
	if sw == nil || sw.Stage != matrix.SweepRate || sw.Index != sw.Points {
		return
	}
	pts := r.plan.SweepPoints(sw.ID)
	measured := make([]sweep.Point, 0, len(pts))
	for _, pt := range pts {
		p, err := readSweepPoint(results.Dir(r.opts.Results, pt.ID), pt.Load.Sweep.Stage)
		if err != nil {
			r.prog.line("  sweep %s: no knee: %v", sw.ID, err)
			return
		}
		measured = append(measured, p)
	}
	knee, why := sweep.Knee(measured)
	r.prog.line("  sweep %s: knee at %s, %.3g req/s completed: %s", sw.ID, pts[knee].ID, measured[knee].Achieved, why)
}

// sweepLoadFlags are a sweep point's load flags for --dry-run: a rate point's rate is known
// only once its sweep's sync and throughput points have run.
func sweepLoadFlags(l matrix.Load) string {
	if l.Sweep == nil || l.Sweep.Stage != matrix.SweepRate {
		return fmt.Sprintf("--concurrency %d", l.Concurrency)
	}
	return fmt.Sprintf("--rate RATE%d --arrival %s  # rate %d of %d, spaced between the sync and throughput points' req/s when they have run",
		l.Sweep.Index, l.Settings.Arrival, l.Sweep.Index, l.Sweep.Points)
}
