package cli

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/llmscale/llmscale/internal/compare"
	"github.com/llmscale/llmscale/internal/results"
)

type compareFlags struct {
	metrics         []string
	ignore          []string
	failOn          []string
	significantOnly bool
	html            string
	resamples       int
	seed            uint64
}

func newCompareCmd(env Env) *cobra.Command {
	var f compareFlags
	c := &cobra.Command{
		Use:   "compare A B",
		Short: "Two campaigns (or two selections of one) side by side, with the change beyond noise; CI thresholds",
		Long: `compare matches the done experiments of two results trees by their factors (GPUs, TP, DP, load
level, prompts, max_tokens, batch caps, API…; engine and model are not part of the match) and
prints, per matched point, each metric on both sides, the change and whether it exceeds the
run-to-run noise: Welch's t interval over repeats where both sides have two or more, else a
bootstrap over the requests of each experiment, else "noise unknown". Then the scaling fits
(Amdahl's serial fraction with its interval, efficiency) and the bottleneck verdicts.

A side is a results folder, or a selection of one: DIR@col=value[,col=value], e.g. to set the
TP series against the DP series of one campaign: results@dp=1 results@tp=1 (selected columns
are left out of the match). A tree without agg/ files is aggregated in memory; nothing is
written into either tree.

--fail-on turns it into a CI check: METRIC OP VALUE, with OP one of > >= < <=; VALUE +10% is a
relative change, +50 (signed) a change in the metric's unit, 500 (unsigned) a bound on B. Any
condition that holds for a point, or that no point could be checked against, exits with 4.`,
		Example: `  llmscale compare results-vllm-0.10 results-vllm-0.11
  llmscale compare results@dp=1 results@tp=1 --html tp-vs-dp.html
  llmscale compare base new --fail-on 'p99_ttft_ms>+10%' --fail-on 'output_throughput_tps<-5%'`,
		Args: cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, args []string) error { return runCompare(env, args, f) },
	}
	fs := c.Flags()
	fs.StringSliceVar(&f.metrics, "metrics", nil, "metrics to compare: summary_metrics columns or p99_ttft_ms spellings (default: throughputs, goodput, TTFT/TPOT/ITL/E2E percentiles)")
	fs.StringSliceVar(&f.ignore, "ignore", nil, "factor columns not to match on, e.g. prompts when the two sides named their prompt sets differently")
	fs.StringArrayVar(&f.failOn, "fail-on", nil, "a threshold METRIC OP VALUE (repeatable, or comma-separated), e.g. 'p99_ttft_ms>+10%'")
	fs.BoolVar(&f.significantOnly, "significant-only", false, "a relative or signed threshold fails only when the change is beyond the noise")
	fs.StringVar(&f.html, "html", "", "also write the comparison as a self-contained HTML page to this file")
	fs.IntVar(&f.resamples, "resamples", 0, fmt.Sprintf("bootstrap resamples per experiment (0: %d; -1: no bootstrap)", compare.DefaultResamples))
	fs.Uint64Var(&f.seed, "seed", 0, "seed of the bootstrap and the fits (0: the fits' default)")
	return c
}

func runCompare(env Env, args []string, f compareFlags) error {
	var thresholds []compare.Threshold
	for _, spec := range f.failOn {
		ts, err := compare.ParseThresholds(spec)
		if err != nil {
			return withHint(withCode(err, ExitUsage), "write METRIC OP VALUE, e.g. 'p99_ttft_ms>+10%%' or 'output_throughput_tps<-5%%' (docs/compare.md)")
		}
		thresholds = append(thresholds, ts...)
	}
	if f.resamples < -1 || (f.resamples > 0 && f.resamples < MinResamples) {
		return withCode(fmt.Errorf("--resamples %d: want -1 (none), 0 (default) or at least %d", f.resamples, MinResamples), ExitUsage)
	}
	var sides [2]compare.Campaign
	for i, arg := range args {
		s, err := compare.ParseSide(arg)
		if err != nil {
			return withCode(err, ExitUsage)
		}
		s.Root = env.path(s.Root)
		if sides[i], err = compare.Load(s, f.seed); err != nil {
			return withHint(withCode(err, ExitUsage), "give two results folders (with raw/ or agg/summary_metrics.parquet)")
		}
		for _, p := range sides[i].Problems {
			fmt.Fprintf(env.Stderr, "llmscale: compare: %s: %v\n", arg, p)
		}
	}
	res, err := compare.Compare(sides[0], sides[1], compare.Options{Metrics: withThresholdMetrics(f.metrics, thresholds),
		Ignore: f.ignore, Resamples: f.resamples, Seed: f.seed})
	if err != nil {
		return withCode(err, ExitUsage)
	}
	if err := compare.WriteText(env.Stdout, res); err != nil {
		return err
	}
	var checks *compare.ThresholdReport
	if len(thresholds) > 0 {
		rep := compare.Check(res, thresholds, f.significantOnly)
		checks = &rep
	}
	if err := writeCompareHTML(env, f.html, res, checks); err != nil {
		return err
	}
	if len(res.Points) == 0 {
		fmt.Fprintln(env.Stderr, "llmscale: compare: no experiment matched; see `--ignore` and the only-in lines above")
	}
	return thresholdError(env.Stderr, checks)
}

// withThresholdMetrics adds the thresholds' metrics to those shown, so every threshold is
// checked and its numbers appear in the table.
func withThresholdMetrics(metrics []string, ts []compare.Threshold) []string {
	if len(ts) == 0 {
		return metrics
	}
	if len(metrics) == 0 {
		metrics = compare.DefaultMetrics()
	}
	return append(metrics, compare.MetricsOf(ts)...)
}

func writeCompareHTML(env Env, path string, res compare.Result, checks *compare.ThresholdReport) error {
	if path == "" {
		return nil
	}
	path = env.path(path)
	if err := results.WriteAtomic(path, func(w io.Writer) error { return compare.WriteHTML(w, res, checks) }); err != nil {
		return fmt.Errorf("--html: %w", err)
	}
	fmt.Fprintf(env.Stderr, "→ %s\n", path)
	return nil
}

// thresholdError prints every violation and returns the thresholds' exit code when any failed.
func thresholdError(w io.Writer, rep *compare.ThresholdReport) error {
	if rep == nil {
		return nil
	}
	for _, v := range rep.Violations {
		fmt.Fprintf(w, "FAIL %s at %s: observed %.4g (A %.4g, B %.4g, %s)\n", v.Threshold.Text, v.Point, v.Observed,
			v.Change.A, v.Change.B, v.Change.Verdict())
	}
	for _, t := range rep.Unchecked {
		fmt.Fprintf(w, "FAIL %s: no matched point has %s on both sides\n", t.Text, t.Metric)
	}
	if !rep.Failed() {
		fmt.Fprintln(w, "thresholds passed")
		return nil
	}
	var names []string
	for _, v := range rep.Violations {
		names = append(names, v.Threshold.Text)
	}
	return withCode(fmt.Errorf("thresholds crossed: %d violations, %d unchecked (%s)", len(rep.Violations),
		len(rep.Unchecked), strings.Join(unique(names), ", ")), ExitThresholds)
}

func unique(v []string) []string {
	var out []string
	for _, s := range v {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
