package cli

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/llmscale/llmscale/internal/results"
)

// The test binary doubles as llmscale: with LLMSCALE_TEST_MAIN=1 it runs Main, so campaigns
// in these tests start real child processes (`<test binary> sim …`), and a campaign itself
// can run as a child that a test kills.
func TestMain(m *testing.M) {
	if os.Getenv("LLMSCALE_TEST_MAIN") == "1" {
		os.Exit(asCLI())
	}
	os.Exit(m.Run())
}

// asCLI is cmd/llmscale's main for the test binary. LLMSCALE_TEST_IGNORE_TERM=1 makes it
// ignore SIGTERM, to play a server that will not stop.
func asCLI() int {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	if os.Getenv("LLMSCALE_TEST_IGNORE_TERM") == "1" {
		signal.Ignore(syscall.SIGTERM)
		signal.Notify(sigs, os.Interrupt)
	} else {
		signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	}
	go func() {
		<-sigs
		cancel()
		<-sigs
		os.Exit(ExitInterrupted)
	}()
	dir, _ := os.Getwd()
	exe, _ := os.Executable()
	return Main(ctx, Env{Args: os.Args[1:], Getenv: os.Getenv, Dir: dir, Executable: exe, Environ: os.Environ(),
		Hostname: "test", Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
}

// childEnviron is what servers and child campaigns start with: the test binary acting as llmscale.
func childEnviron() []string {
	return append(os.Environ(), "LLMSCALE_TEST_MAIN=1")
}

// campaignMatrix writes a small simulator matrix; model is a unique name so the test can find
// the processes it started. extra is appended to the file.
func campaignMatrix(t *testing.T, dir, model, extra string) string {
	t.Helper()
	path := filepath.Join(dir, "m.yaml")
	write(t, path, fmt.Sprintf(`campaign: t
engine: sim
model: %s
factors:
  tp: [1]
  dp: [1, 2]
  users: [4, 8]
  prompts: ["random:64:16"]
  max_tokens: [16]
load: {run_time: 1500ms, warmup: 300ms, cooldown: 200ms, grace: 2s}
server:
  startup_timeout: 20s
  stop_grace: 2s
  sim: {speedup: 4}
%s`, model, extra))
	return path
}

func uniqueModel(t *testing.T) string {
	return fmt.Sprintf("test-%s-%d", strings.ReplaceAll(t.Name(), "/", "-"), rand.Int64())
}

// runInProcess runs llmscale in-process with the test binary as the executable.
func runInProcess(t *testing.T, dir string, args ...string) result {
	t.Helper()
	return runWithEnv(t, dir, nil, args...)
}

// runWithEnv is runInProcess with environment variables.
func runWithEnv(t *testing.T, dir string, environ map[string]string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	exe, _ := os.Executable()
	code := Main(context.Background(), Env{Args: args, Getenv: func(k string) string { return environ[k] }, Dir: dir,
		Executable: exe, Environ: childEnviron(), Hostname: "test", Stdin: strings.NewReader(""),
		Stdout: &stdout, Stderr: &stderr})
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// processesWith lists the pids of live processes whose command line contains marker.
func processesWith(marker string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		var pid int
		if _, err := fmt.Sscan(e.Name(), &pid); err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.Contains(cmdline, []byte(marker)) {
			continue
		}
		if stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")); err == nil {
			if f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:])); len(f) > 0 && f[0] == "Z" {
				continue // a zombie is dead
			}
		}
		pids = append(pids, pid)
	}
	return pids
}

// noneLeft fails the test if a process with marker outlives a short grace period.
func noneLeft(t *testing.T, marker string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if len(processesWith(marker)) == 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Errorf("processes left behind: %v", processesWith(marker))
}

func statuses(t *testing.T, root string) map[string]string {
	t.Helper()
	dirs, _ := results.ListExperiments(root)
	out := map[string]string{}
	for _, d := range dirs {
		rec, err := results.ReadExperiment(d)
		if err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		out[rec.ID] = rec.Status
	}
	return out
}

func modTime(t *testing.T, path string) time.Time {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.ModTime()
}

func TestRunCampaignOnSimulator(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	model := uniqueModel(t)
	campaignMatrix(t, dir, model, "")
	r := runInProcess(t, dir, "run", "-m", "m.yaml", "--results", "res")
	if r.code != ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	noneLeft(t, model)
	root := filepath.Join(dir, "res")
	if _, err := os.Stat(filepath.Join(root, "report.html")); err != nil || !strings.Contains(r.stderr, "report: "+root) {
		t.Errorf("run did not end with the report (%v); stderr:\n%s", err, r.stderr)
	}
	st := statuses(t, root)
	if len(st) != 4 {
		t.Fatalf("got %d experiments, want 4: %v", len(st), st)
	}
	for id, s := range st {
		if s != results.StatusDone {
			t.Errorf("%s is %s", id, s)
		}
		checkExperimentFiles(t, results.Dir(root, id))
	}
	// One start per server configuration.
	for _, server := range []string{"G1_TP1_DP1", "G2_TP1_DP2"} {
		log, err := os.ReadFile(filepath.Join(root, results.ServersDir, server+".log"))
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(log), "# llmscale "); n != 1 {
			t.Errorf("server %s started %d times, want once", server, n)
		}
	}
	var topo map[string]any
	if err := results.ReadJSON(filepath.Join(root, results.TopologyFile), &topo); err != nil {
		t.Errorf("topology.json: %v", err)
	}

	// Running again skips everything; --force with --only redoes one experiment.
	first := "t_G1_TP1_DP1_U4_rand64x16_O16"
	before := modTime(t, filepath.Join(results.Dir(root, first), "requests.parquet"))
	r = runInProcess(t, dir, "run", "-m", "m.yaml", "--results", "res", "--no-analysis")
	if r.code != ExitOK || !strings.Contains(r.stderr, "0 experiments to run (4 already done") {
		t.Fatalf("second run: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if !modTime(t, filepath.Join(results.Dir(root, first), "requests.parquet")).Equal(before) {
		t.Errorf("a finished experiment was run again")
	}
	r = runInProcess(t, dir, "run", "-m", "m.yaml", "--results", "res", "--no-analysis", "--force", "--only", "*_U8_*")
	if r.code != ExitOK || !strings.Contains(r.stderr, "2 experiments to run") {
		t.Fatalf("--force --only: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	noneLeft(t, model)
}

// TestReplicaWindow: with DP run as replicas, every replica's window is opened and closed by
// concurrent snapshots, and experiment.json says how far apart they were.
func TestReplicaWindow(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	model := uniqueModel(t)
	campaignMatrix(t, dir, model, "")
	r := runInProcess(t, dir, "run", "-m", "m.yaml", "--results", "res", "--no-analysis",
		"--set", "server.replicas=true", "--set", "factors.dp=2", "--set", "factors.users=8")
	if r.code != ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	noneLeft(t, model)
	rec, err := results.ReadExperiment(results.Dir(filepath.Join(dir, "res"), "t_G2_TP1_DP2_U8_rand64x16_O16"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Server.Endpoints) != 2 || rec.ReplicaSkew == nil {
		t.Fatalf("endpoints %v, replica skew %+v: want 2 replicas and their skew", rec.Server.Endpoints, rec.ReplicaSkew)
	}
	window := rec.MeasureTo.Sub(rec.MeasureFrom)
	if s := rec.ReplicaSkew; s.BeforeNs < 0 || s.AfterNs < 0 || time.Duration(s.AfterNs) > window/10 {
		t.Errorf("replica skew %+v in a %v window", s, window)
	}
}

// checkExperimentFiles reads back what an experiment must leave.
func checkExperimentFiles(t *testing.T, dir string) {
	t.Helper()
	reqs, err := results.ReadParquet[results.Request](filepath.Join(dir, "requests.parquet"))
	if err != nil || len(reqs) == 0 {
		t.Errorf("%s: requests.parquet: %d rows, %v", dir, len(reqs), err)
	}
	metrics, err := results.ReadParquet[results.ServerMetric](filepath.Join(dir, results.ServerMetricsFile))
	if err != nil || len(metrics) == 0 {
		t.Errorf("%s: server_metrics.parquet: %d rows, %v", dir, len(metrics), err)
	}
	rec, err := results.ReadExperiment(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Server.Commands) == 0 || rec.Server.Version == "" || rec.Server.Effective["max_num_seqs"] == "" ||
		rec.Server.Effective["max_model_len"] == "" {
		t.Errorf("%s: server not described: %+v", dir, rec.Server)
	}
	if rec.PromptCache != "fresh server start" && !strings.HasPrefix(rec.PromptCache, "reset") {
		t.Errorf("%s: prompt cache %q, want a fresh start or a reset", dir, rec.PromptCache)
	}
	if _, err := os.Stat(filepath.Join(dir, results.GPUFile)); err == nil {
		return // a machine with GPUs
	}
	if len(rec.Telemetry) == 0 {
		t.Errorf("%s: no gpu.parquet and no reason why", dir)
	}
}

// TestSingleWithSeedVariables runs one experiment the way the seed's run_single.sh example did:
// every setting from the environment, the id from the command line.
func TestSingleWithSeedVariables(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "prompts.txt"), "What is a GPU?\nWhy does TTFT grow with load?\n")
	model := uniqueModel(t)
	r := runWithEnv(t, dir, map[string]string{
		"LLMSCALE_ENGINE": "sim", "VLLM_MODEL": model, "USERS": "6", "SPAWN": "20", "RUN_TIME": "2s",
		"LLMSCALE_WARMUP": "500ms", "LLMSCALE_COOLDOWN": "200ms", "PROMPTS_FILE": "prompts.txt", "MAX_TOKENS": "16",
		"TP": "1", "DP": "2", "BATCH_SIZE": "8", "MBT": "1024",
	}, "single", "2025-07-19_manual_G2_U6_prompts", "--results", "res", "--no-analysis")
	if r.code != ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	noneLeft(t, model)
	exp := results.Dir(filepath.Join(dir, "res"), "2025-07-19_manual_G2_U6_prompts")
	checkExperimentFiles(t, exp)
	rec, _ := results.ReadExperiment(exp)
	cmd := strings.Join(rec.Server.Commands, " ")
	for _, want := range []string{"--data-parallel-size 2", "--max-num-seqs 8", "--max-num-batched-tokens 1024", "--model " + model} {
		if !strings.Contains(cmd, want) {
			t.Errorf("server command lacks %q: %s", want, cmd)
		}
	}
	if rec.Load.Users != 6 || rec.Load.MaxTokens != 16 || rec.Server.GPUs != 2 {
		t.Errorf("experiment = %+v", rec.Load)
	}
	if _, err := os.Stat(filepath.Join(exp, "summary.json")); err != nil {
		t.Errorf("no load summary (client CPU) recorded: %v", err)
	}
}
