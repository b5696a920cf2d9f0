package campaign

import (
	"fmt"

	"github.com/llmscale/llmscale/internal/matrix"
	"github.com/llmscale/llmscale/internal/results"
)

// newRecord is the experiment.json of an experiment about to run on set (nil: not started).
func (r *Runner) newRecord(e matrix.Experiment, set *serverSet) results.Experiment {
	l, s := e.Load, e.Load.Settings
	rec := results.Experiment{
		ID: e.ID, Campaign: r.plan.Campaign, Index: e.Index, Repeat: e.Repeat, Status: results.StatusRunning,
		Factors: map[string]string{},
		Server: results.ServerInfo{ID: e.Server.ID, Engine: e.Server.Engine, Model: e.Server.Model, GPUs: e.Server.GPUs,
			TP: e.Server.TP, DP: e.Server.DP, PP: e.Server.PP, BatchSize: e.Server.BatchSize, MBT: e.Server.MBT},
		Load: results.LoadInfo{Intensity: l.Intensity,
			Prompts: l.Prompts.Name, MaxTokens: l.MaxTokens, API: l.API, Workers: max(s.Workers, 1),
			WarmupNs: int64(s.Warmup), RunTimeNs: int64(s.RunTime), CooldownNs: int64(s.Cooldown),
			SLOTTFTNs: int64(l.SLO.TTFT), SLOTPOTNs: int64(l.SLO.TPOT), SLOE2ENs: int64(l.SLO.E2E)},
		Host: r.opts.Host, Tool: r.opts.ToolVersion, MatrixFile: r.matrix.File, MatrixHash: r.matrix.Hash,
		StartedAt: r.opts.Now().UTC(),
	}
	if s.Seed != nil {
		rec.Seed = *s.Seed
	}
	for _, f := range e.Factors {
		rec.Factors[f.Name] = f.Value
	}
	if set != nil {
		rec.Server.Commands, rec.Server.Endpoints = set.commandLines(), set.targets
		rec.Server.Version, rec.Server.Effective = set.version, set.effective
		rec.GPUs = r.tele.gpuNames(set.devices())
	}
	return rec
}

// save writes experiment.json and the campaign index; a failure to write is reported, since
// losing the record of a measured experiment is the one thing a campaign must not do.
func (r *Runner) save(e matrix.Experiment, rec results.Experiment) {
	if err := results.WriteExperiment(results.Dir(r.opts.Results, e.ID), rec); err != nil {
		fmt.Fprintf(r.opts.Log, "llmscale: cannot record %s: %v\n", e.ID, err)
	}
	if err := r.state.set(e.ID, rec.Status, rec.Reason); err != nil {
		fmt.Fprintf(r.opts.Log, "llmscale: cannot update the campaign index: %v\n", err)
	}
}
