package campaign

import (
	"fmt"
	"strings"

	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/matrix"
	"github.com/llmscale/llmscale/internal/server"
	"github.com/llmscale/llmscale/internal/spec"
)

// DryRun writes to Options.Out what Run would do now, starting and writing nothing: the
// executor's units (its batch scripts) when there is one, else each server's command lines
// and each experiment's load as the equivalent `llmscale load` command. It shows the same
// experiments Run would run: selected by the filters and not done yet (unless forced).
func (r *Runner) DryRun() error {
	todo, _ := r.pick()
	if r.opts.Executor != nil {
		return r.opts.Executor.DryRun(r.opts.Out, groupByServer(todo))
	}
	return r.printLocal(todo)
}

// printLocal prints each server's command lines and each experiment's load, as the
// equivalent `llmscale load` command.
func (r *Runner) printLocal(todo []matrix.Experiment) error {
	w := r.opts.Out
	for _, group := range groupByServer(todo) {
		sc := group.Server
		fmt.Fprintf(w, "# server %s\n", sc.ID)
		targets := []string{sc.Host}
		if sc.Engine != spec.EngineExternal {
			targets = targets[:0]
			for _, in := range server.Plan(sc, max(sc.Settings.Port, 8000)) {
				cmd, err := server.BuildCommand(sc, in, r.opts.Exe)
				if err != nil {
					return err
				}
				fmt.Fprintln(w, cmd)
				targets = append(targets, fmt.Sprintf("http://127.0.0.1:%d", in.Port))
			}
		}
		for _, e := range group.Experiments {
			fmt.Fprintf(w, "  # %s\n  %s\n", e.ID, loadCommand(e, targets))
		}
	}
	return nil
}

// loadCommand is the `llmscale load` line that drives the same load.
func loadCommand(e matrix.Experiment, targets []string) string {
	l, s := e.Load, e.Load.Settings
	parts := []string{"llmscale load", "--host " + strings.Join(targets, ","), "--api " + string(l.API), "--model " + shellWord(l.Model)}
	switch l.Mode {
	case loadspec.ModeUsers:
		parts = append(parts, fmt.Sprintf("--users %d --spawn-rate %g", l.Users, s.SpawnRate))
	case loadspec.ModeConcurrency:
		parts = append(parts, fmt.Sprintf("--concurrency %d", l.Concurrency))
	case loadspec.ModeSweep:
		parts = append(parts, sweepLoadFlags(l))
	default:
		parts = append(parts, fmt.Sprintf("--rate %g --arrival %s", l.Rate, s.Arrival))
		if s.Arrival == "gamma" {
			parts = append(parts, fmt.Sprintf("--burstiness %g", s.Burstiness))
		}
		if s.MaxInflight > 0 {
			parts = append(parts, fmt.Sprintf("--max-inflight %d", s.MaxInflight))
		}
	}
	if slo := (loadspec.SLO{TTFT: l.SLO.TTFT.D(), TPOT: l.SLO.TPOT.D(), E2E: l.SLO.E2E.D()}); slo.Any() {
		parts = append(parts, "--goodput "+slo.String())
	}
	parts = append(parts, "--prompts "+shellWord(l.PromptSet), fmt.Sprintf("--max-tokens %d", l.MaxTokens),
		fmt.Sprintf("--warmup %s --run-time %s --cooldown %s", s.Warmup.D(), s.RunTime.D(), s.Cooldown.D()),
		fmt.Sprintf("--seed %d", *s.Seed), "--out results/raw/"+e.ID)
	return strings.Join(parts, " ")
}

func shellWord(s string) string {
	return server.Command{Argv: []string{s}}.String()
}
