package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/slurm"
)

// These tests run campaigns through a real Slurm cluster: the one-node test cluster that
// .ci/slurm-up.sh starts (CI runs it before the tests). The jobs run this test binary as
// llmscale: sbatch passes the environment on (--export=ALL), LLMSCALE_TEST_MAIN=1 included.

// defaultSlurmConf is where .ci/slurm-up.sh writes the test cluster's configuration.
const defaultSlurmConf = "/tmp/llmscale-slurm/slurm.conf"

// slurmEnviron returns the environment that reaches the test cluster. Without a cluster the
// test is skipped, with how to start one, except under CI (CI set), where it fails: there
// the cluster is part of the test setup.
func slurmEnviron(t *testing.T) []string {
	t.Helper()
	environ, problem := slurmProbe()
	if problem == "" {
		return environ
	}
	msg := "no Slurm cluster to run jobs on (" + problem + "); start the test cluster with " +
		"`eval \"$(.ci/slurm-up.sh)\"` (Debian, as root: installs slurm-wlm and munge)"
	if os.Getenv("CI") != "" {
		t.Fatalf("CI is set, so the Slurm tests must run: %s", msg)
	}
	t.Skip(msg)
	return nil
}

// slurmProbe asks the cluster once per test binary whether its node takes jobs.
var slurmProbe = sync.OnceValues(func() ([]string, string) {
	environ := childEnviron()
	if os.Getenv("SLURM_CONF") == "" {
		if _, err := os.Stat(defaultSlurmConf); err == nil {
			environ = append(environ, "SLURM_CONF="+defaultSlurmConf)
		}
	}
	if _, err := exec.LookPath("sinfo"); err != nil {
		return nil, "sinfo is not installed"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sinfo", "-h", "-o", "%T")
	cmd.Env = environ
	out, err := cmd.CombinedOutput()
	state := strings.TrimSpace(string(out))
	for _, ok := range []string{"idle", "mix", "alloc"} {
		if err == nil && strings.HasPrefix(state, ok) {
			return environ, ""
		}
	}
	return nil, fmt.Sprintf("sinfo: %v; %q", err, state)
})

// runWithEnviron runs llmscale in-process as runInProcess does, with environ for the
// processes it starts (sbatch among them).
func runWithEnviron(t *testing.T, dir string, environ []string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	exe, _ := os.Executable()
	code := Main(context.Background(), Env{Args: args, Getenv: func(string) string { return "" }, Dir: dir,
		Executable: exe, Environ: environ, Hostname: "test", Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr})
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// startChildWithEnviron runs llmscale as a child process, as startChild does, with environ.
func startChildWithEnviron(t *testing.T, dir string, environ []string, args ...string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	exe, _ := os.Executable()
	cmd := exec.Command(exe, args...)
	cmd.Dir, cmd.Env = dir, environ
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, out
}

// waitExit waits for a child and returns its exit code.
func waitExit(t *testing.T, cmd *exec.Cmd, out *syncBuffer) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		return 0
	case <-time.After(90 * time.Second):
		t.Fatalf("llmscale did not end; output:\n%s", out.String())
	}
	return -1
}

type jobEntry struct {
	Server      string   `json:"server"`
	JobID       string   `json:"job_id"`
	Output      string   `json:"output"`
	Experiments []string `json:"experiments"`
	State       string   `json:"state"`
}

func readJobs(t *testing.T, root string) []jobEntry {
	t.Helper()
	var jobs []jobEntry
	if err := results.ReadJSON(filepath.Join(root, slurm.Dir, "jobs.json"), &jobs); err != nil {
		t.Fatal(err)
	}
	return jobs
}

// noJobLeft fails if one of the jobs is still pending or running on the cluster.
func noJobLeft(t *testing.T, environ []string, jobs []jobEntry) {
	t.Helper()
	var ids []string
	for _, j := range jobs {
		ids = append(ids, j.JobID)
	}
	c := slurm.NewClient(slurm.ExecRunner{Env: environ})
	q, err := c.Queue(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	for id, j := range q {
		if j.Phase() != slurm.PhaseEnded {
			t.Errorf("job %s is still %s", id, j.State)
		}
	}
}

// slurmMatrix is campaignMatrix with the slurm executor, polling the test cluster often.
func slurmMatrix(t *testing.T, dir, model string) {
	campaignMatrix(t, dir, model, "executor: slurm\nslurm: {poll: 300ms, cpus_per_task: 1}\n")
}

// TestSlurmCampaign runs a simulator campaign through Slurm, one job per server configuration,
// each experiment's load from two workers (srun tasks in the job): jobs are submitted, run,
// and leave complete results; --dry-run submits nothing.
func TestSlurmCampaign(t *testing.T) {
	t.Parallel()
	environ := slurmEnviron(t)
	dir := t.TempDir()
	model := uniqueModel(t)
	slurmMatrix(t, dir, model)
	args := []string{"run", "-m", "m.yaml", "--results", "res", "--set", "factors.users=4", "--set", "load.workers=2"}

	r := runWithEnviron(t, dir, environ, append(args, "--dry-run")...)
	if r.code != ExitOK || strings.Count(r.stdout, "#!/bin/bash") != 2 || !strings.Contains(r.stdout, "#SBATCH --gres=gpu:2") ||
		!strings.Contains(r.stdout, "--set load.workers=2 --server G2_TP1_DP2\n") {
		t.Fatalf("dry run: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "res", slurm.Dir, "jobs.json")); err == nil {
		t.Fatal("--dry-run submitted jobs")
	}

	r = runWithEnviron(t, dir, environ, args...)
	if r.code != ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	root := filepath.Join(dir, "res")
	jobs := readJobs(t, root)
	noJobLeft(t, environ, jobs)
	noneLeft(t, model)
	if len(jobs) != 2 {
		t.Fatalf("%d jobs, want one per server configuration: %+v", len(jobs), jobs)
	}
	for _, j := range jobs {
		if j.State != "COMPLETED" {
			t.Errorf("job %s (%s) is %s", j.JobID, j.Server, j.State)
		}
		if out, err := os.ReadFile(j.Output); err != nil || !strings.Contains(string(out), "campaign: 1 experiment to run") {
			t.Errorf("job %s output: %v\n%s", j.JobID, err, out)
		}
		if _, err := os.Stat(filepath.Join(root, slurm.Dir, j.Server+".sbatch")); err != nil {
			t.Errorf("batch script not kept: %v", err)
		}
	}
	st := statuses(t, root)
	if len(st) != 2 {
		t.Errorf("experiments %v, want 2", st)
	}
	for id, s := range st {
		if s != results.StatusDone {
			t.Errorf("%s is %s", id, s)
		}
		workerFiles(t, results.Dir(root, id), 2)
		log, _ := os.ReadFile(filepath.Join(results.Dir(root, id), "load-worker-0.log"))
		if !strings.HasPrefix(string(log), "# srun --ntasks=2 ") {
			t.Errorf("%s: the workers did not run as srun tasks:\n%.300s", id, log)
		}
	}
}

// TestSlurmJobCancelledAndResumed cancels a job mid-way (scancel, as an administrator or a
// time limit would): its unfinished experiment is failed with the job's end and output, the
// finished one is kept, and running again resubmits only what is unfinished.
func TestSlurmJobCancelledAndResumed(t *testing.T) {
	t.Parallel()
	environ := slurmEnviron(t)
	dir := t.TempDir()
	model := uniqueModel(t)
	slurmMatrix(t, dir, model)
	root := filepath.Join(dir, "res")
	args := []string{"run", "-m", "m.yaml", "--results", "res", "--no-analysis", "--set", "factors.dp=1", "--set", "load.run_time=3s"}
	cmd, out := startChildWithEnviron(t, dir, environ, args...)
	waitStatus(t, root, secondExp, results.StatusRunning)
	jobs := readJobs(t, root)
	scancel := exec.Command("scancel", jobs[0].JobID)
	scancel.Env = environ
	if b, err := scancel.CombinedOutput(); err != nil {
		t.Fatalf("scancel: %v %s", err, b)
	}
	if code := waitExit(t, cmd, out); code != ExitFailed {
		t.Fatalf("exit %d, want %d; output:\n%s", code, ExitFailed, out.String())
	}
	noneLeft(t, model)
	rec, err := results.ReadExperiment(results.Dir(root, secondExp))
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("slurm job %s CANCELLED", jobs[0].JobID)
	if rec.Status != results.StatusFailed || !strings.HasPrefix(rec.Reason, want) || !strings.Contains(rec.LogTail, "last lines of") {
		t.Errorf("cancelled experiment: %s %q, log:\n%s\nwant failed, %q", rec.Status, rec.Reason, rec.LogTail, want)
	}
	if st := statuses(t, root); st[firstExp] != results.StatusDone {
		t.Errorf("finished experiment is %s", st[firstExp])
	}
	kept := modTime(t, filepath.Join(results.Dir(root, firstExp), "requests.parquet"))

	r := runWithEnviron(t, dir, environ, args...)
	if r.code != ExitOK || !strings.Contains(r.stderr, "1 experiment to run (1 already done") {
		t.Fatalf("resumed run: exit %d; stderr:\n%s", r.code, r.stderr)
	}
	again := readJobs(t, root)
	if len(again) != 1 || !slices.Equal(again[0].Experiments, []string{secondExp}) || again[0].State != "COMPLETED" {
		t.Errorf("resubmitted %+v; want one job for %s", again, secondExp)
	}
	if !modTime(t, filepath.Join(results.Dir(root, firstExp), "requests.parquet")).Equal(kept) {
		t.Error("the finished experiment ran again")
	}
	if st := statuses(t, root); st[secondExp] != results.StatusDone {
		t.Errorf("resumed experiment is %s", st[secondExp])
	}
	noJobLeft(t, environ, again)
	noneLeft(t, model)
}

// TestSlurmInterrupt presses Ctrl-C while the jobs run: every job is cancelled and gone from the
// queue when llmscale exits, and no server is left behind.
func TestSlurmInterrupt(t *testing.T) {
	t.Parallel()
	environ := slurmEnviron(t)
	dir := t.TempDir()
	model := uniqueModel(t)
	slurmMatrix(t, dir, model)
	root := filepath.Join(dir, "res")
	cmd, out := startChildWithEnviron(t, dir, environ, "run", "-m", "m.yaml", "--results", "res", "--no-analysis",
		"--set", "factors.users=4", "--set", "load.run_time=20s")
	waitStatus(t, root, "t_G2_TP1_DP2_U4_rand64x16_O16", results.StatusRunning)
	cmd.Process.Signal(syscall.SIGINT)
	if code := waitExit(t, cmd, out); code != ExitInterrupted {
		t.Fatalf("exit %d, want %d; output:\n%s", code, ExitInterrupted, out.String())
	}
	if !strings.Contains(out.String(), "slurm: cancelling jobs") {
		t.Errorf("output:\n%s", out.String())
	}
	jobs := readJobs(t, root)
	if len(jobs) != 2 {
		t.Fatalf("jobs %+v, want 2", jobs)
	}
	noJobLeft(t, environ, jobs)
	noneLeft(t, model)
	for id, s := range statuses(t, root) {
		rec, _ := results.ReadExperiment(results.Dir(root, id))
		if s != results.StatusFailed || !strings.HasPrefix(rec.Reason, "interrupted") {
			t.Errorf("%s: %s %q, want failed, interrupted", id, s, rec.Reason)
		}
	}
}
