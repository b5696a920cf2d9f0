// Package campaign runs a plan: for each server configuration it starts the server once,
// runs that configuration's experiments one after the other (warm-up, measured window,
// cool-down, with GPU and server telemetry), records everything under results/raw/<exp_id>/,
// and stops the server. It resumes: finished experiments are never run again unless forced,
// and every file is written atomically, so an interrupted campaign loses nothing it measured.
package campaign

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"sync"
	"time"

	"github.com/llmscale/llmscale/internal/gpu"
	"github.com/llmscale/llmscale/internal/loadgen"
	"github.com/llmscale/llmscale/internal/matrix"
	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/spec"
)

// ErrInterrupted is returned when the campaign was stopped by its context (Ctrl-C).
var ErrInterrupted = errors.New("campaign interrupted")

// ErrFailed is returned when at least one experiment failed.
var ErrFailed = errors.New("some experiments failed")

// Options say where and how a plan runs.
type Options struct {
	Results string   // results folder
	Exe     string   // the llmscale binary: the sim engine runs `llmscale sim`
	Environ []string // environment servers start with (their own settings are added)
	APIKey  string   // bearer token for requests, never written to results
	Force   bool     // run finished experiments again
	// MatrixChanged continues a campaign whose matrix file was edited since its results
	// folder was started; without it such a folder is refused (ErrOtherCampaign).
	MatrixChanged bool
	Only          []string  // glob patterns over experiment ids to keep
	Exclude       []string  // glob patterns over experiment ids to drop
	Servers       []string  // only these server configuration ids (one Slurm job's share)
	Out           io.Writer // where DryRun prints
	Log           io.Writer // progress lines
	ToolVersion   string
	Host          string // this machine's name, recorded
	SMI           gpu.SMI
	Client        *http.Client // readiness, /version, /metrics, prefix-cache resets
	Now           func() time.Time
	StartDelay    time.Duration // from deciding an experiment's start to the start (default 300ms)
	// Live, when set, shows an experiment's load as it runs (a bar on a terminal); it returns
	// the function that stops the display.
	Live func(id string, src interface{ Progress() loadgen.Snapshot }) (stop func())
	// Executor, when set, runs each server configuration's experiments elsewhere (a Slurm
	// job each) instead of here; nil runs them in this process.
	Executor Executor
	// LaunchWorkers starts the load workers of experiments with load.workers > 1 (default
	// LocalWorkers; inside a Slurm job, one srun of n tasks).
	LaunchWorkers WorkerLauncher
}

// Runner runs one plan.
type Runner struct {
	plan   matrix.Plan
	matrix *spec.Loaded
	opts   Options
	tele   telemetry
	state  *campaignState
	prog   *progress

	tokMu sync.Mutex // guards toks: server sets may run their experiments at once
	toks  map[string]*campaignTokenizer

	// startSet and runOne are the seam of the local loop: they start one server
	// configuration and run one experiment on it. New sets the real ones (startServer,
	// runExperiment); tests put fakes here to drive the loop without processes.
	startSet func(ctx context.Context, sc matrix.ServerConfig) (*serverSet, error)
	runOne   func(ctx context.Context, set *serverSet, e matrix.Experiment, first bool, attempt int) (results.Experiment, *loadgen.Summary)
}

// Outcome counts what a run did.
type Outcome struct {
	Done, Failed, Skipped, AlreadyDone int
}

// New prepares a run of plan; l is the matrix it came from (recorded with the results).
func New(l *spec.Loaded, plan matrix.Plan, opts Options) *Runner {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: 30 * time.Second}
	}
	if opts.StartDelay == 0 {
		opts.StartDelay = 300 * time.Millisecond
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	r := &Runner{plan: plan, matrix: l, opts: opts}
	r.startSet, r.runOne = r.startServer, r.runExperiment
	return r
}

// Run runs every selected experiment that is not done yet, server configuration by server
// configuration. It returns ErrInterrupted when ctx ends first and ErrFailed when an
// experiment failed; other errors mean the results folder itself could not be written.
func (r *Runner) Run(ctx context.Context) (Outcome, error) {
	todo, out := r.pick()
	state, err := openState(r.opts.Results, r.matrix, r.plan, r.opts)
	if err != nil {
		return out, err
	}
	moved, err := setAside(r.opts.Results, todo, r.opts.Now())
	for _, m := range moved {
		if r.opts.Log == nil {
			break
		}
		fmt.Fprintf(r.opts.Log, "llmscale: an experiment.json could not be read; its folder is kept in %s and the experiment runs again\n", m)
	}
	if err != nil {
		return out, err
	}
	r.state = state
	if r.opts.Executor != nil {
		r.prog = newProgress(r.opts.Log, todo, out.AlreadyDone, r.opts.Now, startEstimate(r.plan))
		return r.runRemote(ctx, todo, out)
	}
	r.tele = detectTelemetry(ctx, r.matrix.Telemetry, r.opts, r.opts.Results)
	r.prog = newProgress(r.opts.Log, todo, out.AlreadyDone, r.opts.Now, startEstimate(r.plan))
	for _, group := range groupByServer(todo) {
		if ctx.Err() != nil {
			break
		}
		done, failed := r.runServer(ctx, group.Experiments)
		out.Done += done
		out.Failed += failed
	}
	r.prog.finish()
	switch {
	case ctx.Err() != nil:
		return out, ErrInterrupted
	case out.Failed > 0:
		return out, fmt.Errorf("%w: %d of %d", ErrFailed, out.Failed, out.Done+out.Failed)
	}
	return out, nil
}

// pick keeps the experiments to run now: selected by the filters and not done yet.
func (r *Runner) pick() ([]matrix.Experiment, Outcome) {
	var todo []matrix.Experiment
	var out Outcome
	for _, e := range r.plan.Experiments {
		if !r.selected(e) {
			out.Skipped++
			continue
		}
		if !r.opts.Force && isDone(results.Dir(r.opts.Results, e.ID)) {
			out.AlreadyDone++
			continue
		}
		todo = append(todo, e)
	}
	return todo, out
}

func (r *Runner) selected(e matrix.Experiment) bool {
	if len(r.opts.Servers) > 0 && !contains(r.opts.Servers, e.Server.ID) {
		return false
	}
	if len(r.opts.Only) > 0 && !matchAny(r.opts.Only, e.ID) {
		return false
	}
	return !matchAny(r.opts.Exclude, e.ID)
}

func matchAny(patterns []string, id string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, id); ok {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// groupByServer gathers experiments by server configuration, servers in the order each first
// appears and experiments in their order: one group per server, so each starts once even if
// its experiments were not consecutive (a plan keeps them together; see matrix.Expand).
func groupByServer(exps []matrix.Experiment) []Group {
	var groups []Group
	index := map[string]int{}
	for _, e := range exps {
		i, ok := index[e.Server.ID]
		if !ok {
			i = len(groups)
			index[e.Server.ID] = i
			groups = append(groups, Group{Server: e.Server})
		}
		groups[i].Experiments = append(groups[i].Experiments, e)
	}
	return groups
}
