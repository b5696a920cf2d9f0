package campaign

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/llmscale/llmscale/internal/matrix"
	"github.com/llmscale/llmscale/internal/results"
)

// Executor runs the experiments of server configurations somewhere else, as one unit of work
// each (one batch job per server configuration on Slurm), where another llmscale process
// runs them into the same results tree. The campaign decides what to run and reads the
// results; the executor only starts, watches and stops the units.
type Executor interface {
	// Run starts one unit per group, calls ended once per group as it ends (always from
	// the goroutine that called Run), and returns when every group has ended. When ctx
	// ends it stops every unit it started and waits for them to be gone before returning.
	// Its error means the executor itself failed (the scheduler could not be reached); the
	// groups it had not reported end as failed.
	Run(ctx context.Context, groups []Group, ended func(GroupEnd)) error
	// DryRun writes what Run would start, without starting anything.
	DryRun(w io.Writer, groups []Group) error
}

// Group is one server configuration and its experiments that are still to run.
type Group struct {
	Server      matrix.ServerConfig
	Experiments []matrix.Experiment
}

// GroupEnd is how one unit of work ended.
type GroupEnd struct {
	Server string // server configuration id
	// OK is true when the unit ended normally: its experiments' own records say how each
	// went. Otherwise Reason says how it ended ("slurm job 12 FAILED (exit code 3)"), and
	// every experiment it did not finish is recorded failed with it, unless the unit
	// recorded its own failure first.
	OK     bool
	Reason string
	// Killed is true when the unit was stopped from outside (cancelled, out of time, its node
	// lost): its experiments' own records are overridden by Reason, since whatever they
	// say ("interrupted") is the consequence.
	Killed bool
	Detail string // e.g. the last lines of the job's output
}

// runRemote runs the experiments to do through the executor, then records what it finds.
func (r *Runner) runRemote(ctx context.Context, todo []matrix.Experiment, out Outcome) (Outcome, error) {
	groups := groupByServer(todo)
	byID := map[string]Group{}
	for _, g := range groups {
		byID[g.Server.ID] = g
	}
	reported := map[string]bool{}
	ended := func(end GroupEnd) {
		g, ok := byID[end.Server]
		if !ok || reported[end.Server] {
			return
		}
		reported[end.Server] = true
		done, failed := r.settle(g, end)
		out.Done += done
		out.Failed += failed
	}
	err := r.opts.Executor.Run(ctx, groups, ended)
	for _, g := range groups {
		if !reported[g.Server.ID] {
			reason := "interrupted before its job ended"
			if err != nil {
				reason = "the executor failed: " + firstLine(err)
			}
			ended(GroupEnd{Server: g.Server.ID, Reason: reason, Killed: true})
		}
	}
	r.state.refresh(r.opts.Results)
	r.prog.finish()
	switch {
	case ctx.Err() != nil:
		return out, ErrInterrupted
	case err != nil:
		return out, fmt.Errorf("%w: %w", ErrFailed, err)
	case out.Failed > 0:
		return out, fmt.Errorf("%w: %d of %d", ErrFailed, out.Failed, out.Done+out.Failed)
	}
	return out, nil
}

// settle reads what a group's unit left and records every experiment it did not finish as
// failed, keeping the reason the unit itself recorded when it ended normally.
func (r *Runner) settle(g Group, end GroupEnd) (done, failed int) {
	for _, e := range g.Experiments {
		dir := results.Dir(r.opts.Results, e.ID)
		rec, err := results.ReadExperiment(dir)
		if isDone(dir) {
			done++
			r.prog.finished(e, rec, nil, rec.EndedAt.Sub(rec.StartedAt))
			continue
		}
		failed++
		if err == nil && !end.Killed && rec.Status == results.StatusFailed {
			r.prog.finished(e, rec, nil, 0)
			r.state.set(e.ID, rec.Status, rec.Reason)
			continue
		}
		if err != nil {
			rec = r.newRecord(e, nil)
		}
		prior := ""
		if rec.Status == results.StatusFailed && rec.Reason != "" {
			prior = "inside the job: " + rec.Reason + "\n"
		}
		rec.Status, rec.EndedAt = results.StatusFailed, r.opts.Now().UTC()
		rec.Reason = end.Reason
		if end.OK || rec.Reason == "" {
			rec.Reason = "its job ended before the experiment finished"
		}
		rec.LogTail = strings.TrimSpace(prior + end.Detail)
		r.save(e, rec)
		r.prog.finished(e, rec, nil, 0)
	}
	return done, failed
}
