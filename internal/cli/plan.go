package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/matrix"
	"github.com/llmscale/llmscale/internal/spec"
)

func newPlanCmd(env Env) *cobra.Command {
	var mf matrixFlags
	var asJSON bool
	c := &cobra.Command{
		Use:   "plan",
		Short: "Expand the matrix: every experiment with its id, server starts, skipped combinations, time",
		Long: `plan reads the matrix file (with .env, environment and --set overrides), and prints every
valid experiment with its exp_id in run order, grouped by server configuration (one server
start each), every skipped combination with the reason, and the estimated wall time and
GPU-hours. It runs nothing. --json prints the same for scripts.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			s, err := newSettings(env)
			if err != nil {
				return err
			}
			l, p, err := planOrStop(c.Context(), func() (*spec.Loaded, matrix.Plan, error) { return s.plan(mf) })
			if err != nil {
				return err
			}
			if asJSON {
				return writePlanJSON(env.Stdout, l, p)
			}
			writePlan(env.Stdout, l, p)
			return nil
		},
	}
	mf.register(c.Flags())
	c.Flags().BoolVar(&asJSON, "json", false, "print the plan as JSON")
	return c
}

// planOrStop plans, but returns as soon as ctx is cancelled (Ctrl-C, SIGTERM): plan writes
// nothing, so a large matrix still being read or expanded is simply left behind.
func planOrStop(ctx context.Context, plan func() (*spec.Loaded, matrix.Plan, error)) (*spec.Loaded, matrix.Plan, error) {
	type planned struct {
		l   *spec.Loaded
		p   matrix.Plan
		err error
	}
	done := make(chan planned, 1)
	go func() {
		l, p, err := plan()
		done <- planned{l, p, err}
	}()
	select {
	case r := <-done:
		return r.l, r.p, r.err
	case <-ctx.Done():
		return nil, matrix.Plan{}, withCode(errors.New("interrupted: nothing was planned"), ExitInterrupted)
	}
}

// planJSON is plan --json's document.
type planJSON struct {
	Matrix    string          `json:"matrix"`
	Hash      string          `json:"matrix_sha256"`
	Overrides []spec.Override `json:"overrides"`
	matrix.Plan
}

func writePlanJSON(w io.Writer, l *spec.Loaded, p matrix.Plan) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(planJSON{Matrix: l.File, Hash: l.Hash, Overrides: l.Overrides(), Plan: p})
}

func writePlan(w io.Writer, l *spec.Loaded, p matrix.Plan) {
	fmt.Fprintf(w, "campaign   %s — engine %s, model %s, api %s\n", p.Campaign, p.Engine, p.Model, l.API)
	fmt.Fprintf(w, "matrix     %s (sha256 %s)\n", l.File, l.Hash[:12])
	for _, o := range l.Overrides() {
		fmt.Fprintf(w, "override   %s from %s\n", o.Key, o.From)
	}
	fmt.Fprintf(w, "\n%s on %s (%s, %d skipped)\n", plural(len(p.Experiments), "experiment"),
		plural(len(p.Servers), "server configuration"), plural(p.Combinations, "combination"), len(p.Skipped))
	for _, s := range p.Servers {
		writeServer(w, p, s)
	}
	writeSkipped(w, p.Skipped)
	writeEstimate(w, l, p)
}

func writeServer(w io.Writer, p matrix.Plan, s matrix.ServerConfig) {
	fmt.Fprintf(w, "\nserver %s — %s, %s\n", s.ID, plural(s.GPUs, "GPU"), serverDetail(s))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  #\tEXP_ID\tLOAD\tPROMPTS\tMAX_TOKENS\tTIME")
	for _, e := range p.ExperimentsOf(s.ID) {
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%d\t%s\n", e.Index, e.ID, loadText(e.Load), e.Load.PromptSet,
			e.Load.MaxTokens, e.Load.Duration())
	}
	tw.Flush()
}

func serverDetail(s matrix.ServerConfig) string {
	parts := []string{fmt.Sprintf("tp %d dp %d pp %d", s.TP, s.DP, s.PP)}
	parts = append(parts, capText("max-num-seqs", s.BatchSize), capText("max-num-batched-tokens", s.MBT))
	if len(s.Args) > 0 {
		parts = append(parts, "args "+strings.Join(s.Args, " "))
	}
	return strings.Join(parts, ", ")
}

func capText(flag string, v int) string {
	if v == 0 {
		return flag + " engine default"
	}
	return fmt.Sprintf("%s %d", flag, v)
}

func loadText(l matrix.Load) string {
	switch l.Mode {
	case loadspec.ModeUsers:
		return plural(l.Users, "user")
	case loadspec.ModeConcurrency:
		return fmt.Sprintf("%d in flight", l.Concurrency)
	case loadspec.ModeSweep:
		if l.Sweep.Stage == matrix.SweepRate {
			return fmt.Sprintf("sweep rate %d of %d, %s", l.Sweep.Index, l.Sweep.Points, l.Settings.Arrival)
		}
		return fmt.Sprintf("sweep %s, %d in flight", l.Sweep.Stage, l.Concurrency)
	}
	return fmt.Sprintf("%g req/s %s", l.Rate, l.Settings.Arrival)
}

// writeSkipped prints skipped combinations grouped by server configuration and reason, so a
// rule that removes a whole server configuration takes one line, not one per load level.
func writeSkipped(w io.Writer, skipped []matrix.Skipped) {
	if len(skipped) == 0 {
		return
	}
	fmt.Fprintf(w, "\nskipped (%d)\n", len(skipped))
	type group struct {
		server, reason string
		n              int
	}
	var groups []group
	for _, s := range skipped {
		if n := len(groups); n > 0 && groups[n-1].server == s.Server && groups[n-1].reason == s.Reason {
			groups[n-1].n++
			continue
		}
		groups = append(groups, group{server: s.Server, reason: s.Reason, n: 1})
	}
	for _, g := range groups {
		fmt.Fprintf(w, "  %s × %d: %s\n", g.server, g.n, g.reason)
	}
}

func writeEstimate(w io.Writer, l *spec.Loaded, p matrix.Plan) {
	fmt.Fprintf(w, "\nestimate   %s wall, %.1f GPU-hours (%s, %s of %s each)\n",
		p.Estimate.Wall.Round(time.Second), p.Estimate.GPUHours, plural(len(p.Experiments), "experiment"),
		plural(len(p.Servers), "server start"), l.Server.StartupEstimate.D())
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}
