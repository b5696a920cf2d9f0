package campaign

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/llmscale/llmscale/internal/loadgen"
	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/matrix"
	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/server"
)

// WorkerStartDelay is the least time between deciding the agreed start of worker processes
// and the start: each must be up and have loaded its prompts by then.
const WorkerStartDelay = 3 * time.Second

// WorkerLauncher turns the command of one load worker (without its index) into the processes
// that run all n of them: n local processes by default (LocalWorkers), or one `srun` with n
// tasks inside a Slurm job.
type WorkerLauncher func(n int, argv []string) [][]string

// LocalWorkers runs n processes on this machine, the k-th with --worker k.
func LocalWorkers(n int, argv []string) [][]string {
	cmds := make([][]string, n)
	for k := range n {
		cmds[k] = append(append([]string(nil), argv...), "--worker", strconv.Itoa(k))
	}
	return cmds
}

// WorkerLoadFile is the file in an experiment's folder that holds the load its workers run
// (loadspec.Load as JSON), read by `llmscale load --config`.
const WorkerLoadFile = "worker-load.json"

// WorkerCommand writes l into dir as WorkerLoadFile and returns the `llmscale load` command
// of one of its workers, without its index: the load itself travels as that file, and every
// worker writes into dir.
func WorkerCommand(exe, dir string, l loadspec.Load) ([]string, error) {
	spec := filepath.Join(dir, WorkerLoadFile)
	if err := results.WriteJSON(spec, l); err != nil {
		return nil, err
	}
	return []string{exe, "load", "--config", spec, "--out", dir, "--quiet"}, nil
}

// runWorkers drives an experiment's load with n worker processes started together, waits for
// them, and summarises the requests of all of them (requests-<k>.parquet) as one load.
func (r *Runner) runWorkers(ctx context.Context, e matrix.Experiment, targets []string, dir string, start time.Time, n, vocab int) (loadgen.Summary, error) {
	launch := r.opts.LaunchWorkers
	if launch == nil {
		launch = LocalWorkers
	}
	l := loadOf(e, targets)
	l.WorkerCount, l.VocabSize, l.StartAt = n, vocab, start.UTC()
	argv, err := WorkerCommand(r.opts.Exe, dir, l)
	if err != nil {
		return loadgen.Summary{}, fmt.Errorf("load workers: %w", err)
	}
	cmds := launch(n, append(argv, "--force")) // the campaign decided to (re)run this experiment: its old files are replaced
	runErr := RunWorkers(ctx, cmds, WorkerOptions{LogDir: dir, Dir: dir, Environ: r.workerEnv(), Grace: l.Grace})
	return MergeWorkers(ctx, loadgen.Config{Load: l}, dir, runErr)
}

// WorkerOptions say how worker processes run.
type WorkerOptions struct {
	LogDir  string   // each one's output goes to LogDir/load-worker-<i>.log
	Dir     string   // working directory
	Environ []string // environment
	Grace   time.Duration
}

// RunWorkers runs load worker processes (cmds, each an argv) and waits for all of them.
// Cancelling ctx sends them SIGTERM: like a first Ctrl-C, they stop sending and write their
// files within the grace period. Exit status 1 (every request failed) is not an error: the
// records say so.
func RunWorkers(ctx context.Context, cmds [][]string, opts WorkerOptions) error {
	errs := make([]error, len(cmds))
	var wg sync.WaitGroup
	for i, argv := range cmds {
		logPath := filepath.Join(opts.LogDir, fmt.Sprintf("load-worker-%d.log", i))
		wg.Go(func() { errs[i] = runWorker(ctx, argv, logPath, opts) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// MergeWorkers reads the files of cfg.WorkerCount workers in dir (requests-<k>.parquet and
// summary-<k>.json) and summarises them as one load (loadgen.Merge). runErr is what running
// them returned; the error says what went wrong: ErrAllFailed when every request failed,
// else a worker's failure or missing files (not when ctx was cancelled: an interrupted run
// keeps what it recorded).
func MergeWorkers(ctx context.Context, cfg loadgen.Config, dir string, runErr error) (loadgen.Summary, error) {
	n := cfg.WorkerCount
	rows, readErr := results.ReadRequestsDir(dir)
	var parts []loadgen.Summary
	for k := range n {
		p, err := loadgen.ReadSummary(filepath.Join(dir, loadgen.SummaryFile(k, n)))
		if err != nil {
			readErr = errors.Join(readErr, fmt.Errorf("worker %d left no summary: %w", k, err))
			continue
		}
		parts = append(parts, p)
	}
	sum := loadgen.Merge(cfg, rows, parts)
	if len(parts) < n && ctx.Err() != nil {
		sum.Interrupted = true
	}
	switch {
	case ctx.Err() != nil:
		return sum, nil
	case readErr != nil:
		return sum, fmt.Errorf("load workers: %w", errors.Join(runErr, readErr))
	case len(sum.TargetsDown) > 0:
		return sum, fmt.Errorf("%w: %s (a worker took it out of its balancer and stopped)", loadgen.ErrTargetDown, strings.Join(sum.TargetsDown, ", "))
	case loadgen.AllFailed(rows):
		return sum, fmt.Errorf("%w (%d requests): %s", loadgen.ErrAllFailed, sum.Sent, strings.Join(sum.FirstErrors, "; "))
	case runErr != nil:
		return sum, fmt.Errorf("load workers: %w", runErr)
	}
	return sum, nil
}

// runWorker runs one worker process (or one srun of all of them) with its output in logPath.
func runWorker(ctx context.Context, argv []string, logPath string, opts WorkerOptions) error {
	log, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer log.Close()
	fmt.Fprintf(log, "# %s\n", server.Command{Argv: argv})
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env, cmd.Dir = opts.Environ, opts.Dir
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = server.ProcAttr()
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = opts.Grace + 30*time.Second
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() == 1 {
			return nil
		}
		return fmt.Errorf("%s: %w; last lines of %s:\n%s", filepath.Base(argv[0]), err, logPath, server.LogTail(logPath, 10))
	}
	return nil
}

// workerEnv is the environment of worker processes: the campaign's, with the API key.
func (r *Runner) workerEnv() []string {
	env := append([]string(nil), r.opts.Environ...)
	if env == nil {
		env = os.Environ()
	}
	if r.opts.APIKey != "" {
		env = append(env, "OPENAI_API_KEY="+r.opts.APIKey)
	}
	return env
}
