package campaign

import (
	"fmt"
	"path/filepath"

	"github.com/llmscale/llmscale/internal/loadgen"
	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/matrix"
	"github.com/llmscale/llmscale/internal/workload"
)

// loadOf is the load of one experiment against targets: what the in-process load generator
// runs, and what load workers receive as JSON (`llmscale load --config`). It is the one place
// a plan's experiment becomes a load. The caller sets what a plan does not know: WorkerCount
// when several workers share the load (the default is one worker taking all of it), StartAt
// and the vocabulary of random prompts.
func loadOf(e matrix.Experiment, targets []string) loadspec.Load {
	l, s := e.Load, e.Load.Settings
	out := loadspec.Load{
		Intensity: l.Intensity, Targets: targets, API: l.API, Model: l.Model,
		SpawnRate: s.SpawnRate, Arrival: s.Arrival, Burstiness: s.Burstiness, MaxInflight: s.MaxInflight,
		PromptSet: promptArg(l.Prompts), MaxTokens: l.MaxTokens,
		Warmup: s.Warmup.D(), RunTime: s.RunTime.D(), Cooldown: s.Cooldown.D(), ThinkTime: s.ThinkTime.D(),
		Timeout: s.Timeout.D(), StallTimeout: s.StallTimeout.D(), Grace: s.Grace.D(),
		SLO:    loadspec.SLO{TTFT: l.SLO.TTFT.D(), TPOT: l.SLO.TPOT.D(), E2E: l.SLO.E2E.D()},
		Client: s.Client, ExperimentID: e.ID, WorkerCount: 1,
	}
	if out.ConnectRate = s.ConnectRate; out.ConnectRate == 0 {
		out.ConnectRate = loadgen.NoPreconnect // the matrix's 0 opens none ahead; loadgen reads a zero as its default
	}
	if l.Mode != loadspec.ModeRate { // the open loop's schedule decides when its requests start
		out.StartRamp = s.StartRamp.D()
	}
	if s.IgnoreEOS != nil {
		out.IgnoreEOS = *s.IgnoreEOS
	}
	if s.Seed != nil {
		out.Seed = *s.Seed
	}
	if l.Tokenizer != "" { // the workers count text as the campaign does
		out.Tokenizer = l.Tokenizer
		if abs, err := filepath.Abs(l.Tokenizer); err == nil {
			out.Tokenizer = abs
		}
	}
	return out
}

// promptArg is the prompt set, as `llmscale load --prompts` takes it, that loads the same
// prompts as src.
func promptArg(src workload.Source) string {
	if src.Spec != "" {
		return src.Spec // a dataset level, its path already absolute
	}
	if src.Kind == workload.KindRandom {
		if src.OutTokens > 0 {
			return fmt.Sprintf("random:%d:%d", src.InTokens, src.OutTokens)
		}
		return fmt.Sprintf("random:%d", src.InTokens)
	}
	if abs, err := filepath.Abs(src.Path); err == nil {
		return abs
	}
	return src.Path
}
