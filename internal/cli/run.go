package cli

import (
	"context"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/llmscale/llmscale/internal/analysis"
	"github.com/llmscale/llmscale/internal/campaign"
	"github.com/llmscale/llmscale/internal/loadgen"
	"github.com/llmscale/llmscale/internal/matrix"
	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/spec"
)

// DefaultResults is the results folder when neither --results nor LLMSCALE_RESULTS names one.
const DefaultResults = "results"

// runFlags are the flags of run and single.
type runFlags struct {
	results    string
	force      bool
	changed    bool // --matrix-changed
	only       []string
	exclude    []string
	servers    []string
	dryRun     bool
	noAnalysis bool
	executor   string // local | slurm; "" takes the matrix's

	matrixPath string   // absolute path of the matrix file, for the jobs of the slurm executor
	sets       []string // the --set flags, passed on to those jobs
}

func (f *runFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.results, "results", "", "results folder (default $LLMSCALE_RESULTS or "+DefaultResults+")")
	fs.BoolVar(&f.force, "force", false, "run experiments again even if they are done")
	fs.BoolVar(&f.changed, "matrix-changed", false, "continue the campaign in --results although its matrix file was edited since (kept experiments keep their ids)")
	fs.StringArrayVar(&f.only, "only", nil, "run only experiments whose id matches this glob, e.g. '*_G4_*' (repeatable)")
	fs.StringArrayVar(&f.exclude, "exclude", nil, "skip experiments whose id matches this glob (repeatable)")
	fs.BoolVar(&f.dryRun, "dry-run", false, "print the server and load commands instead of running them")
	fs.BoolVar(&f.noAnalysis, "no-analysis", false, "do not aggregate, fit and report at the end")
}

// resultsDir resolves the results folder with flags > environment > .env > default.
func (s settings) resultsDir(flag string) string {
	if flag == "" {
		flag = s.lookup("LLMSCALE_RESULTS")
	}
	if flag == "" {
		flag = DefaultResults
	}
	dir := s.env.path(flag)
	s.removeTemps(dir)
	return dir
}

// removeTemps deletes what interrupted writes (kill -9, a crash) left in a results folder,
// at the start of every command that works on it; files other live processes are writing
// stay. A failure only costs a warning: the leftovers are hidden and harm nothing.
func (s settings) removeTemps(dir string) {
	removed, err := results.NewTempCleaner().Clean(dir)
	if len(removed) > 0 {
		fmt.Fprintf(s.env.Stderr, "llmscale: removed %s of interrupted writes in %s\n", plural(len(removed), "temporary file"), dir)
	}
	if err != nil {
		fmt.Fprintf(s.env.Stderr, "llmscale: warning: looking for temporary files in %s: %v\n", dir, err)
	}
}

func newRunCmd(env Env) *cobra.Command {
	var mf matrixFlags
	var rf runFlags
	c := &cobra.Command{
		Use:   "run",
		Short: "Run a whole campaign: plan, every experiment, aggregate, fit, report",
		Long: `run expands the matrix (as plan shows it), then for each server configuration starts the
server once, waits until it is healthy, and runs its experiments one after the other: warm-up,
measured window and cool-down under load, with the GPUs and the server's /metrics sampled;
between experiments it resets the server's prefix cache. Everything goes to
results/raw/<exp_id>/ (experiment.json, requests.parquet, server_metrics.parquet, gpu.parquet,
server.log), written atomically.

Running it again resumes: finished experiments are skipped, unfinished and failed ones run
again (--force runs everything). The first Ctrl-C finishes the current experiment's files and
stops the servers; a second one exits at once. At the end run aggregates, fits and reports.

With --executor slurm (or executor: slurm in the matrix), each server configuration runs as one
Slurm batch job (results/slurm/<server>.sbatch) on a node that shares the results folder; run
watches the jobs, cancels them on Ctrl-C, and analyses when the last one ends (docs/slurm.md).`,
		Example: `  llmscale run --matrix config/experiment_matrix.sim.yaml
  llmscale run --only '*_G4_*' --dry-run
  llmscale run --executor slurm --dry-run     # print the batch scripts`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			s, err := newSettings(env)
			if err != nil {
				return err
			}
			l, p, err := s.plan(mf)
			if err != nil {
				return err
			}
			if l, p, err = inSlurmJob(env, s, mf, l, p); err != nil {
				return err
			}
			rf.matrixPath, rf.sets = env.path(s.matrixFile(mf)), mf.sets
			return runCampaign(c.Context(), env, s, l, p, rf)
		},
	}
	mf.register(c.Flags())
	rf.register(c.Flags())
	c.Flags().StringArrayVar(&rf.servers, "server", nil, "run only this server configuration's experiments (repeatable)")
	c.Flags().StringVar(&rf.executor, "executor", "", "where experiments run: local, or slurm (one batch job per server configuration; docs/slurm.md); default the matrix's executor")
	return c
}

// runCampaign runs a plan and, unless told not to, the analysis after it.
func runCampaign(ctx context.Context, env Env, s settings, l *spec.Loaded, p matrix.Plan, rf runFlags) error {
	if err := checkFilters(p, rf); err != nil {
		return err
	}
	dir := s.resultsDir(rf.results)
	raiseOpenFiles(env) // the load generator runs in this process
	opts := campaign.Options{
		Results: dir, Exe: env.Executable, Environ: env.Environ, APIKey: apiKey(s),
		Force: rf.force, MatrixChanged: rf.changed, Only: rf.only, Exclude: rf.exclude, Servers: rf.servers,
		Out: env.Stdout, Log: env.Stderr, ToolVersion: version(), Host: env.Hostname, Now: env.Now,
		LaunchWorkers: workerLauncher(env),
	}
	// A live bar of the running experiment on a terminal; in a log, a line every 10 s.
	opts.Live = func(id string, src interface{ Progress() loadgen.Snapshot }) func() {
		if isTerminal(env.Stderr) {
			return startProgress(env, src, false)
		}
		return startProgressLines(env, src, "  "+id+":", CampaignProgressEvery)
	}
	var err error
	if opts.Executor, err = executorFor(env, l, rf, dir); err != nil {
		return err
	}
	runner := campaign.New(l, p, opts)
	if rf.dryRun {
		return runner.DryRun()
	}
	out, err := runner.Run(ctx)
	if err == nil || errors.Is(err, campaign.ErrFailed) {
		if aerr := analyse(ctx, env, dir, rf); aerr != nil {
			return errors.Join(err, aerr)
		}
	}
	switch {
	case errors.Is(err, campaign.ErrOtherCampaign):
		return withHint(withCode(err, ExitUsage), "give this campaign its own folder with --results (or LLMSCALE_RESULTS); "+
			"if the matrix was edited on purpose, --matrix-changed continues the campaign with it")
	case errors.Is(err, campaign.ErrInterrupted):
		return withHint(withCode(err, ExitInterrupted), "run the same command again to resume: finished experiments are kept")
	case errors.Is(err, campaign.ErrFailed):
		return withHint(withCode(err, ExitFailed), "see the reasons in %s, each failed experiment's experiment.json and the server logs in %s; "+
			"running again retries them", filepath.Join(dir, "campaign.json"), filepath.Join(dir, results.ServersDir))
	case err != nil:
		return err
	}
	fmt.Fprintf(env.Stderr, "results in %s (%d run now, %d already done)\n", dir, out.Done, out.AlreadyDone)
	return nil
}

// apiKey is the bearer token for requests, from the environment only (never the matrix).
func apiKey(s settings) string {
	if k := s.lookup("OPENAI_API_KEY"); k != "" {
		return k
	}
	return s.lookup("VLLM_API_KEY")
}

// analyse runs aggregate, fit and diagnose on a results tree, then writes the report.
// Experiments whose files cannot be read are reported and do not stop the analysis.
func analyse(ctx context.Context, env Env, dir string, rf runFlags) error {
	if rf.noAnalysis || ctx.Err() != nil {
		return nil
	}
	o := analysis.Options{Results: dir, Log: env.Stderr}
	res, err := analysis.Run(o)
	if err != nil && !errors.Is(err, analysis.ErrSomeUnreadable) {
		return fmt.Errorf("analysis: %w", err)
	}
	fmt.Fprintf(env.Stderr, "analysis: %s, %d series → %s\n", plural(len(res.Rows), "experiment"), len(res.Fits), filepath.Join(dir, "agg"))
	for _, s := range res.Diagnosis.Series {
		fmt.Fprintf(env.Stderr, "  %s: %s\n", s.Series, s.Verdict.Label)
	}
	path, rerr := writeReport(env, dir, "", res)
	if rerr != nil {
		return errors.Join(analysisError(err, o), fmt.Errorf("report: %w", rerr))
	}
	fmt.Fprintf(env.Stderr, "report: %s\n", path)
	return analysisError(err, o)
}

// checkFilters refuses an --only pattern that is malformed or matches no experiment of the plan,
// and a --server that is not one of its server configurations: either would run nothing and
// still exit 0, which a typo should not.
func checkFilters(p matrix.Plan, rf runFlags) error {
	hint := "`llmscale plan` lists the experiment ids and server configurations"
	for _, pat := range rf.only {
		if _, err := path.Match(pat, ""); err != nil {
			return withHint(withCode(fmt.Errorf("--only %q: %w", pat, err), ExitUsage), "%s", hint)
		}
		if !slices.ContainsFunc(p.Experiments, func(e matrix.Experiment) bool { ok, _ := path.Match(pat, e.ID); return ok }) {
			example := ""
			if len(p.Experiments) > 0 {
				example = fmt.Sprintf(" (ids look like %s; a pattern must match the whole id, e.g. '*_G4_*')", p.Experiments[0].ID)
			}
			return withHint(withCode(fmt.Errorf("--only %q matches no experiment of the plan%s", pat, example), ExitUsage), "%s", hint)
		}
	}
	for _, pat := range rf.exclude {
		if _, err := path.Match(pat, ""); err != nil {
			return withHint(withCode(fmt.Errorf("--exclude %q: %w", pat, err), ExitUsage), "%s", hint)
		}
	}
	for _, id := range rf.servers {
		if !slices.ContainsFunc(p.Servers, func(sc matrix.ServerConfig) bool { return sc.ID == id }) {
			ids := make([]string, len(p.Servers))
			for i, sc := range p.Servers {
				ids[i] = sc.ID
			}
			return withHint(withCode(fmt.Errorf("--server %q is not a server configuration of the plan (it has %s)", id, strings.Join(ids, ", ")), ExitUsage), "%s", hint)
		}
	}
	return nil
}
