package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/llmscale/llmscale/internal/aggregate"
	"github.com/llmscale/llmscale/internal/analysis"
	"github.com/llmscale/llmscale/internal/fit"
	"github.com/llmscale/llmscale/internal/report"
	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/resultstree"
	"github.com/llmscale/llmscale/internal/scaling"
)

// reportFlags are the flags of report.
type reportFlags struct {
	results   string
	out       string
	seed      uint64
	resamples int
}

func newReportCmd(env Env) *cobra.Command {
	var f reportFlags
	c := &cobra.Command{
		Use:   "report",
		Short: "Write figures and a self-contained HTML report",
		Long: `report writes results/report.html — one self-contained file that opens offline in any browser —
and the static figures results/figs/*.svg and *.png: the answer per scaling series (speedup,
efficiency, Amdahl's s with its interval, the Karp–Flatt trend, the bottleneck), throughput
against GPU count with the fits, latency CDFs, load curves, the Pareto view, every
experiment's running/waiting requests, KV-cache usage, GPU utilisation and request rate over
time, the diagnosis with its evidence, and the failed experiments with their reasons.

It reads results/agg/summary_metrics.parquet and recomputes the fits and the diagnosis
(seeded: the same as "llmscale fit" wrote); when that file is missing, or older than an
experiment, it runs aggregate, fit and diagnose first. The raw files give the latency CDFs
and the time series. docs/report.md says which file feeds which figure.`,
		Example: `  llmscale report
  llmscale report --results other/results --out /tmp/report`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := checkResamples(f.resamples); err != nil {
				return err
			}
			s, err := newSettings(env)
			if err != nil {
				return err
			}
			o := analysis.Options{Results: s.resultsDir(f.results), Seed: f.seed,
				Fit: fit.Options{Resamples: f.resamples}, Log: env.Stderr}
			res, err := reportAnalysis(env, o)
			if err != nil {
				return analysisError(err, o)
			}
			path, err := writeReport(env, o.Results, env.path(f.out), res)
			if err != nil {
				return err
			}
			fmt.Fprintln(env.Stdout, path)
			return nil
		},
	}
	fs := c.Flags()
	fs.StringVar(&f.results, "results", "", "results folder (default $LLMSCALE_RESULTS or "+DefaultResults+")")
	fs.StringVar(&f.out, "out", "", "folder for report.html and figs/ (default the results folder)")
	fs.Uint64Var(&f.seed, "seed", 0, fmt.Sprintf("seed of the bootstrap (0: %d), as given to fit", scaling.DefaultSeed))
	fs.IntVar(&f.resamples, "resamples", 0, fmt.Sprintf("bootstrap resamples (0: %d), as given to fit", fit.DefaultResamples))
	return c
}

// reportAnalysis loads the analysis of a results tree from summary_metrics.parquet, or runs
// aggregate, fit and diagnose first when that file is missing or older than an experiment.
// Unreadable experiments are reported by the analysis and do not stop the report.
func reportAnalysis(env Env, o analysis.Options) (analysis.Result, error) {
	if _, err := os.Stat(o.Results); err != nil {
		return analysis.Result{}, err
	}
	summary := filepath.Join(o.Results, results.AggDir, aggregate.SummaryParquet)
	st, err := os.Stat(summary)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		fmt.Fprintf(env.Stderr, "llmscale: %s not found: running aggregate, fit and diagnose first\n", summary)
	case err == nil && newerExperiment(o.Results, st) != "":
		fmt.Fprintf(env.Stderr, "llmscale: %s changed after %s was written: running aggregate, fit and diagnose again\n",
			newerExperiment(o.Results, st), summary)
	default:
		return analysis.Load(o)
	}
	res, err := analysis.Run(o)
	if errors.Is(err, analysis.ErrSomeUnreadable) {
		err = nil // reported; those experiments appear in the report with the reason
	}
	return res, err
}

// newerExperiment names an experiment whose experiment.json was written after the summary,
// "" when none was.
func newerExperiment(root string, summary os.FileInfo) string {
	paths, _ := filepath.Glob(filepath.Join(root, results.RawDir, "*", results.ExperimentFile))
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil && st.ModTime().After(summary.ModTime()) {
			return filepath.Base(filepath.Dir(p))
		}
	}
	return ""
}

// writeReport builds the report of the results tree root from res and writes report.html
// and figs/ into out (root when empty); it returns the report's path.
func writeReport(env Env, root, out string, res analysis.Result) (string, error) {
	d, err := resultstree.Read(root, res, resultstree.Options{Log: env.Stderr})
	if err != nil {
		return "", withHint(withCode(err, ExitUsage), "is %s a results folder? `llmscale run` makes one", root)
	}
	if out == "" {
		out = root
	}
	opts := report.Options{GeneratedAt: env.now(), Generator: "llmscale " + version()}
	if err := report.Write(out, d, opts); err != nil {
		return "", fmt.Errorf("write report: %w", err)
	}
	return filepath.Join(out, report.ReportFile), nil
}
