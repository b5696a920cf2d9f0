package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/llmscale/llmscale/internal/loadgen"
	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/sweep"
)

// DefaultSweepMaxConcurrency is the throughput stage's requests in flight when
// --sweep-max-concurrency is not given.
const DefaultSweepMaxConcurrency = 256

// sweepResult is sweep.json.
type sweepResult struct {
	Points     []sweep.Point `json:"points"`
	Dirs       []string      `json:"dirs"`
	Knee       int           `json:"knee"` // index into points
	KneeReason string        `json:"knee_reason"`
}

// runSweep runs load --sweep N: synchronous, throughput, then N rates between, each stage in
// its own folder under --out, then sweep.json with the knee.
func runSweep(ctx context.Context, env Env, s settings, fs *pflag.FlagSet, f loadFlags) error {
	for _, mode := range []string{"users", "concurrency", "rate"} {
		if fs.Changed(mode) {
			return withCode(fmt.Errorf("--sweep %d and --%s both set the load: the sweep chooses its own levels", f.sweep, mode), ExitUsage)
		}
	}
	if f.workers > 1 || f.sweepMax < 2 {
		return withCode(fmt.Errorf("--sweep: runs as one worker (--workers %d) with --sweep-max-concurrency ≥ 2 (%d)", f.workers, f.sweepMax), ExitUsage)
	}
	plan, err := loadConfig(ctx, env, s, fs, f)
	if err != nil {
		return err
	}
	cfg, out, promptSet := plan.cfg, plan.out, plan.promptSet
	var res sweepResult
	stage := func(name string, edit func(*loadgen.Config)) (loadgen.Summary, error) {
		c := cfg
		c.Mode, c.Users, c.Concurrency, c.Rate = loadspec.ModeConcurrency, 0, 0, 0
		edit(&c)
		dir := filepath.Join(out, fmt.Sprintf("sweep-%02d-%s", len(res.Points)+1, name))
		c.ExperimentID = filepath.Base(dir)
		sum, err := runStage(ctx, env, c, dir, promptSet, f.quiet)
		// Offered is what the schedule put in the window (a Poisson draw differs from the rate).
		p := sweep.Point{Name: name, Requested: c.Rate, Offered: sum.ScheduledRate, Achieved: sum.RequestThroughput}
		if c.Mode != loadspec.ModeRate {
			p.Offered = 0
		}
		res.Points, res.Dirs = append(res.Points, p), append(res.Dirs, dir)
		fmt.Fprintf(env.Stderr, "llmscale: sweep %s: %.3g req/s completed → %s\n", name, p.Achieved, dir)
		return sum, err
	}
	syncSum, err := stage("sync", func(c *loadgen.Config) { c.Concurrency = 1 })
	if err != nil {
		return loadError(ctx, err, cfg, syncSum.FirstErrors)
	}
	maxSum, err := stage("throughput", func(c *loadgen.Config) { c.Concurrency = f.sweepMax })
	if err != nil {
		return loadError(ctx, err, cfg, maxSum.FirstErrors)
	}
	rates, err := sweep.Rates(syncSum.RequestThroughput, maxSum.RequestThroughput, f.sweep)
	if err != nil {
		return withCode(err, ExitFailed)
	}
	for _, r := range rates {
		if sum, err := stage("rate", func(c *loadgen.Config) { c.Mode, c.Rate = loadspec.ModeRate, r }); err != nil && ctx.Err() != nil {
			return loadError(ctx, err, cfg, sum.FirstErrors)
		}
	}
	res.Knee, res.KneeReason = sweep.Knee(res.Points)
	writeSweep(env, res)
	return results.WriteJSON(filepath.Join(out, "sweep.json"), res)
}

// runStage runs one level of a sweep into dir, as llmscale load does.
func runStage(ctx context.Context, env Env, cfg loadgen.Config, dir, promptSet string, quiet bool) (loadgen.Summary, error) {
	sink, err := loadgen.NewParquetSink(dir, 0, 1)
	if err != nil {
		return loadgen.Summary{}, err
	}
	r, err := loadgen.New(cfg, sink)
	if err != nil {
		sink.Abort()
		return loadgen.Summary{}, withCode(err, ExitUsage)
	}
	if err := results.WriteJSON(filepath.Join(dir, "load.json"), loadRecord(cfg, promptSet)); err != nil {
		sink.Abort()
		return loadgen.Summary{}, err
	}
	stop := startProgress(env, r, quiet)
	sum, runErr := r.Run(ctx)
	stop()
	if err := results.WriteJSON(filepath.Join(dir, loadgen.SummaryFile(0, 1)), sum.JSON()); err != nil {
		return sum, err
	}
	return sum, runErr
}

func writeSweep(env Env, res sweepResult) {
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "LEVEL\tRATE (req/s)\tDUE IN WINDOW (req/s)\tCOMPLETED (req/s)\tKNEE\tFOLDER")
	for i, p := range res.Points {
		requested, offered := "-", "-"
		if p.Offered > 0 {
			requested, offered = fmt.Sprintf("%.3g", p.Requested), fmt.Sprintf("%.3g", p.Offered)
		}
		mark := ""
		if i == res.Knee {
			mark = "◀ knee"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.3g\t%s\t%s\n", p.Name, requested, offered, p.Achieved, mark, res.Dirs[i])
	}
	tw.Flush()
	fmt.Fprintf(env.Stdout, "knee: %s\n", res.KneeReason)
}
