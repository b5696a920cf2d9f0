package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/pflag"

	"github.com/llmscale/llmscale/internal/campaign"
	"github.com/llmscale/llmscale/internal/loadgen"
	"github.com/llmscale/llmscale/internal/results"
)

// runLoadWorkers is `llmscale load --workers N` without --worker: it starts N copies of this
// command as separate processes on this machine, each with --worker k and one agreed start,
// writing into the same folder, waits for them, and prints the summary of all their requests
// together (summary.json); each worker's own files stay (requests-<k>.parquet,
// summary-<k>.json, load-<k>.json, and its output in load-worker-<k>.log).
func runLoadWorkers(ctx context.Context, env Env, s settings, fs *pflag.FlagSet, f loadFlags) error {
	plan, err := loadConfig(ctx, env, s, fs, f)
	if err != nil {
		return err
	}
	cfg, out := plan.cfg, plan.out
	cfg.WorkerCount, cfg.WorkerID = f.workers, 0
	if err := cfg.Validate(); err != nil {
		return withHint(withCode(err, ExitUsage), "see `llmscale load --help`")
	}
	start := cfg.StartAt
	if start.IsZero() {
		start = env.now().Add(campaign.WorkerStartDelay)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return withCode(err, ExitFailed)
	}
	argv := append([]string{env.Executable}, env.Args...)
	argv = append(argv, "--out", out, "--model", cfg.Model, "--exp-id", cfg.ExperimentID,
		"--start-at", start.UTC().Format(time.RFC3339Nano), "--quiet")
	fmt.Fprintf(env.Stderr, "llmscale: %d load workers, starting together at %s (their output: %s)\n",
		f.workers, start.Format("15:04:05.000"), filepath.Join(out, "load-worker-*.log"))
	runErr := campaign.RunWorkers(ctx, campaign.LocalWorkers(f.workers, argv),
		campaign.WorkerOptions{LogDir: out, Dir: env.Dir, Environ: env.Environ, Grace: cfg.Grace})
	sum, err := campaign.MergeWorkers(ctx, cfg, out, runErr)
	if werr := sum.WriteText(env.Stdout); werr != nil {
		return werr
	}
	if werr := results.WriteJSON(filepath.Join(out, loadgen.SummaryFile(0, 1)), sum.JSON()); werr != nil {
		return withCode(werr, ExitFailed)
	}
	fmt.Fprintf(env.Stderr, "llmscale: wrote %s\n", filepath.Join(out, "requests-*.parquet"))
	var files []string
	for k := range f.workers {
		files = append(files, filepath.Join(out, results.RequestsFile(k, f.workers)))
	}
	if werr := writeVLLMResults(env, plan, sum, files); werr != nil {
		return werr
	}
	if sum.MostFailedOnClient() { // every worker's client failures, counted from their records
		return clientFailed(sum)
	}
	return loadError(ctx, err, cfg, sum.FirstErrors)
}
