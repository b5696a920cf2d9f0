package cli

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/llmscale/llmscale/internal/campaign"
	"github.com/llmscale/llmscale/internal/matrix"
	"github.com/llmscale/llmscale/internal/slurm"
	"github.com/llmscale/llmscale/internal/spec"
)

// executorFor picks where a campaign's experiments run: here (nil), or one Slurm job per
// server configuration. --executor wins over the matrix's executor.
func executorFor(env Env, l *spec.Loaded, rf runFlags, results string) (campaign.Executor, error) {
	name := rf.executor
	if name == "" {
		name = l.Spec.Executor
	}
	switch name {
	case "", "local":
		return nil, nil
	case "slurm":
	default:
		return nil, withHint(withCode(fmt.Errorf("--executor %q: want local or slurm", name), ExitUsage),
			"local runs the experiments here; slurm submits one batch job per server configuration")
	}
	paths, err := absPaths(env.Dir, results, rf.matrixPath, slurmBinary(env, l))
	if err != nil {
		return nil, withCode(err, ExitUsage)
	}
	return slurm.NewExecutor(slurm.Config{
		Settings: l.Spec.Slurm, Campaign: l.Spec.Campaign, Results: paths[1], WorkDir: paths[0],
		Command: jobCommand(paths[3], paths[2], paths[1], rf),
		Runner:  slurm.ExecRunner{Env: env.Environ, Dir: env.Dir}, Log: env.Stderr, Now: env.Now,
	}), nil
}

// slurmBinary is the llmscale the jobs run: slurm.llmscale, else this one.
func slurmBinary(env Env, l *spec.Loaded) string {
	if b := l.Spec.Slurm.LLMScale; b != "" {
		return b
	}
	return env.Executable
}

// absPaths makes every path absolute against dir (then dir itself): a job starts elsewhere.
func absPaths(dir string, paths ...string) ([]string, error) {
	out := make([]string, 0, len(paths)+1)
	for _, p := range append([]string{dir}, paths...) {
		if p != "" && !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		abs, err := filepath.Abs(p)
		if err != nil || p == "" {
			return nil, fmt.Errorf("the slurm executor needs an absolute path for %q: %v", p, err)
		}
		out = append(out, abs)
	}
	return out, nil
}

// jobCommand is what each job runs: this campaign, restricted by the job to its server
// configuration (the executor adds --server), on the local executor, without the analysis
// (the submitting llmscale runs it once every job has ended).
func jobCommand(exe, matrixPath, results string, rf runFlags) []string {
	cmd := []string{exe, "run", "--matrix", matrixPath, "--results", results, "--no-analysis", "--executor", "local"}
	for _, s := range rf.sets {
		cmd = append(cmd, "--set", s)
	}
	for _, o := range rf.only {
		cmd = append(cmd, "--only", o)
	}
	for _, x := range rf.exclude {
		cmd = append(cmd, "--exclude", x)
	}
	if rf.force {
		cmd = append(cmd, "--force")
	}
	return cmd
}

// workerLauncher starts the load workers of an experiment: inside a Slurm job as the tasks of
// one srun on this node, elsewhere as local processes.
func workerLauncher(env Env) campaign.WorkerLauncher {
	if env.Getenv("SLURM_JOB_ID") == "" {
		return campaign.LocalWorkers
	}
	return slurm.Workers(env.Getenv("SLURMD_NODENAME"))
}

// inSlurmJob adapts a plan to the Slurm job it runs in: when the matrix does not name the
// GPUs (server.devices), the servers use those Slurm gave the job (CUDA_VISIBLE_DEVICES,
// which are not 0..N-1 on clusters that do not confine jobs to their devices).
func inSlurmJob(env Env, s settings, mf matrixFlags, l *spec.Loaded, p matrix.Plan) (*spec.Loaded, matrix.Plan, error) {
	if env.Getenv("SLURM_JOB_ID") == "" || len(l.Spec.Server.Devices) > 0 {
		return l, p, nil
	}
	devices := env.Getenv("CUDA_VISIBLE_DEVICES")
	for _, d := range strings.Split(devices, ",") {
		if _, err := strconv.Atoi(strings.TrimSpace(d)); err != nil {
			return l, p, nil // empty, or GPU UUIDs: leave the servers' devices alone
		}
	}
	mf.sets = append([]string{"server.devices=" + devices}, mf.sets...)
	return s.plan(mf)
}
