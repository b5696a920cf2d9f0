package cli

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/llmscale/llmscale/internal/aggregate"
	"github.com/llmscale/llmscale/internal/analysis"
	"github.com/llmscale/llmscale/internal/diagnose"
	"github.com/llmscale/llmscale/internal/fit"
	"github.com/llmscale/llmscale/internal/scaling"
)

// analysisFlags are the flags of aggregate, fit and diagnose.
type analysisFlags struct {
	results   string
	out       string
	seed      uint64
	resamples int
	input     string
}

func (f *analysisFlags) register(fs *pflag.FlagSet, fits bool) {
	fs.StringVar(&f.results, "results", "", "results folder (default $LLMSCALE_RESULTS or "+DefaultResults+")")
	fs.StringVar(&f.out, "out", "", "folder for the files (default <results>/agg)")
	if fits {
		fs.Uint64Var(&f.seed, "seed", 0, fmt.Sprintf("seed of the bootstrap (0: %d); recorded in the fit files", scaling.DefaultSeed))
		fs.IntVar(&f.resamples, "resamples", 0, fmt.Sprintf("bootstrap resamples (0: %d)", fit.DefaultResamples))
	}
}

// MinResamples is the fewest bootstrap resamples --resamples takes: a 95% interval is read off
// the 2.5th and 97.5th percentiles of the resampled fits, which fewer resamples do not define.
const MinResamples = 100

// checkResamples refuses a --resamples that would give no fit (negative) or a meaningless
// interval (too few); 0 means the default.
func checkResamples(n int) error {
	if n == 0 || n >= MinResamples {
		return nil
	}
	return withHint(withCode(fmt.Errorf("--resamples %d: want 0 (the default, %d) or at least %d", n, fit.DefaultResamples, MinResamples), ExitUsage),
		"the 95%% interval comes from the percentiles of the resampled fits; fewer than %d resamples do not define them", MinResamples)
}

func (f analysisFlags) options(env Env) (analysis.Options, error) {
	if err := checkResamples(f.resamples); err != nil {
		return analysis.Options{}, err
	}
	s, err := newSettings(env)
	if err != nil {
		return analysis.Options{}, err
	}
	return analysis.Options{Results: s.resultsDir(f.results), Out: env.path(f.out), Seed: f.seed,
		Fit: fit.Options{Resamples: f.resamples}, Log: env.Stderr}, nil
}

func newAggregateCmd(env Env) *cobra.Command {
	var af analysisFlags
	c := &cobra.Command{
		Use:   "aggregate",
		Short: "Summarise every experiment of a results tree into results/agg/summary_metrics.parquet and .csv",
		Long: `aggregate reads results/raw/<exp_id>/ of every experiment (experiment.json, the request files of
every load worker, server_metrics*.parquet, gpu.parquet) and writes one row per experiment to
results/agg/summary_metrics.parquet and summary_metrics.csv: factors, request counts and
failures by kind, throughputs, TTFT/TPOT/ITL/E2E percentiles over the measured window (vLLM's
definitions), goodput, the server's queue, batch, KV cache and timings, GPU utilisation, and
whether the server was saturated. docs/results.md documents every column.

An experiment whose files cannot be read is reported and keeps a row with status "error" and
the reason; the others are aggregated. The exit code is then 1.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			o, err := af.options(env)
			if err != nil {
				return err
			}
			res, err := analysis.Aggregate(o)
			if res.Rows != nil {
				writeAggregate(env.Stdout, res.Rows)
				fmt.Fprintf(env.Stderr, "%d experiments → %s\n", len(res.Rows), filepath.Join(outDir(o), aggregate.SummaryParquet))
			}
			return analysisError(err, o)
		},
	}
	af.register(c.Flags(), false)
	return c
}

func newFitCmd(env Env) *cobra.Command {
	var af analysisFlags
	c := &cobra.Command{
		Use:   "fit",
		Short: "Fit Amdahl, Gustafson, USL and Karp–Flatt to the scaling series; diagnose them",
		Long: `fit forms the scaling series of a campaign from results/agg/summary_metrics.parquet (running
aggregate first if it is missing): experiments that differ only in GPU count under one
parallelism strategy (TP-only, DP-only, or a fixed mix such as TP2×DPn), for each prompt set,
output length and other factor. Each point is the saturation throughput: the best output
throughput over the load levels of that server configuration, flagged when no load level
saturated the server. It writes results/agg/amdahl_fit.csv (Amdahl's serial fraction s with a
bootstrap 95% interval, per series) and scaling_fits.parquet (speedup, efficiency, Karp–Flatt,
Gustafson and USL per point), then the diagnosis (diagnosis.csv and .json).

--input runs the same fits on a plain CSV table (series,gpus,throughput[,repeat]), such as a
published benchmark, and writes the same files to --out (default: a folder beside the table
named after it, published-fit/ for published.csv, so a campaign's own fits are never replaced).`,
		Example: `  llmscale fit
  llmscale fit --input published.csv --out /tmp/fits`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			o, err := af.options(env)
			if err != nil {
				return err
			}
			var res analysis.Result
			if af.input != "" {
				if o.Out == "" { // never over the campaign's own fits in <results>/agg
					o.Out = tableOut(env.path(af.input))
				}
				res, err = fitTable(env, af.input, o)
			} else {
				res, err = analysis.Fit(o)
			}
			if err == nil || res.Fits != nil {
				writeFits(env.Stdout, res)
				fmt.Fprintf(env.Stderr, "%d series → %s\n", len(res.Fits), filepath.Join(outDir(o), analysis.AmdahlFile))
			}
			return analysisError(err, o)
		},
	}
	af.register(c.Flags(), true)
	c.Flags().StringVar(&af.input, "input", "", "fit a CSV table (series,gpus,throughput[,repeat]) instead of the results")
	return c
}

// tableOut is where fit --input writes without --out: beside the table, named after it.
func tableOut(table string) string {
	base := strings.TrimSuffix(filepath.Base(table), filepath.Ext(table))
	return filepath.Join(filepath.Dir(table), base+"-fit")
}

func fitTable(env Env, path string, o analysis.Options) (analysis.Result, error) {
	f, err := os.Open(env.path(path))
	if err != nil {
		return analysis.Result{}, withHint(withCode(fmt.Errorf("--input: %w", err), ExitUsage),
			"give a CSV table with a header naming series, gpus and throughput (docs/analysis.md)")
	}
	defer f.Close()
	res, err := analysis.FitTable(f, o)
	if err != nil && res.Fits == nil {
		return res, withHint(withCode(fmt.Errorf("%s: %w", path, err), ExitUsage),
			"the table needs a header naming series, gpus and throughput (docs/analysis.md)")
	}
	return res, err
}

func newDiagnoseCmd(env Env) *cobra.Command {
	var af analysisFlags
	c := &cobra.Command{
		Use:   "diagnose",
		Short: "Name what limited every experiment and series, with the evidence",
		Long: `diagnose gives every experiment one verdict — not_saturated, load_generator_bound, batch_cap,
kv_cache, prefill_budget, api_server_bound, gpu_bound, failed or unknown — and every scaling
series one verdict on why it is sub-linear (also tp_communication and near_linear), each with
its evidence: the measured value, the threshold and whether it holds. It writes
results/agg/diagnosis.csv and diagnosis.json (and, since series verdicts need the fits, the fit
files too). docs/analysis.md lists every rule and threshold.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			o, err := af.options(env)
			if err != nil {
				return err
			}
			res, err := analysis.Diagnose(o)
			if err == nil || res.Rows != nil {
				writeDiagnosis(env.Stdout, res.Diagnosis)
				fmt.Fprintf(env.Stderr, "→ %s\n", filepath.Join(outDir(o), diagnose.CSVFile))
			}
			return analysisError(err, o)
		},
	}
	af.register(c.Flags(), true)
	return c
}

func outDir(o analysis.Options) string {
	if o.Out != "" {
		return o.Out
	}
	return filepath.Join(o.Results, "agg")
}

// analysisError gives the stages' errors their exit code and hint.
func analysisError(err error, o analysis.Options) error {
	var coded *codedError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &coded) && coded.hint != "":
		return err // already says what to do
	case errors.Is(err, analysis.ErrSomeUnreadable):
		return withHint(withCode(err, ExitFailed), "the rows of those experiments (status error, aggregate_error) say "+
			"which file and why; the other experiments were aggregated")
	case errors.Is(err, os.ErrNotExist):
		return withHint(withCode(err, ExitUsage), "is %s a results folder? `llmscale run` makes one", o.Results)
	}
	return err
}

func writeAggregate(w io.Writer, rows []aggregate.Row) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "EXP_ID\tSTATUS\tOK\tFAILED\tOUT TOK/S\tTTFT P50 MS\tTPOT P50 MS\tSATURATED")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%s\t%v\n", r.ExpID, r.Status, r.Completed, r.Failed,
			fmtOpt(r.OutputThroughput, 0), fmtOpt(r.TTFTP50, 1), fmtOpt(r.TPOTP50, 2), r.Saturated)
	}
	tw.Flush()
}

func writeFits(w io.Writer, res analysis.Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERIES\tGPUS\tS [95% CI]\tEFFICIENCY\tKARP-FLATT\tVERDICT")
	for _, f := range res.Fits {
		a := f.AmdahlRow()
		v, _ := res.Diagnosis.SeriesVerdict(f.Series.Name)
		s := "–"
		if a.S != nil {
			s = fmt.Sprintf("%.3f [%s, %s]", *a.S, fmtOpt(a.SLo, 3), fmtOpt(a.SHi, 3))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", f.Series.Name, a.GPUCounts, s, fmtOpt(a.EfficiencyAtTop, 2), a.KFTrend, v.Code)
	}
	tw.Flush()
}

func writeDiagnosis(w io.Writer, d diagnose.Diagnosis) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "EXPERIMENT\tVERDICT\tSATURATED")
	for _, e := range d.Experiments {
		fmt.Fprintf(tw, "%s\t%s\t%v\n", e.ExpID, e.Verdict.Code, e.Saturated)
	}
	tw.Flush()
	for _, s := range d.Series {
		fmt.Fprintf(w, "\n%s: %s\n  %s\n", s.Series, s.Verdict.Label, s.Verdict.Sentence)
	}
}

func fmtOpt(p *float64, prec int) string {
	if p == nil || math.IsNaN(*p) {
		return "–"
	}
	return fmt.Sprintf("%.*f", prec, *p)
}
