package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/llmscale/llmscale/internal/results"
)

// startChild runs llmscale (the test binary) as a child process, as a user would.
func startChild(t *testing.T, dir string, args ...string) (*exec.Cmd, *strings.Builder) {
	t.Helper()
	exe, _ := os.Executable()
	cmd := exec.Command(exe, args...)
	cmd.Dir = dir
	cmd.Env = childEnviron()
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, &out
}

// waitStatus waits until an experiment's experiment.json has the status.
func waitStatus(t *testing.T, root, id, status string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if rec, err := results.ReadExperiment(results.Dir(root, id)); err == nil && rec.Status == status {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s never became %s", id, status)
}

const (
	firstExp  = "t_G1_TP1_DP1_U4_rand64x16_O16"
	secondExp = "t_G1_TP1_DP1_U8_rand64x16_O16"
)

// TestResumeAfterKill kills llmscale with SIGKILL at two points — during the first experiment,
// and after it finished — and checks that no server outlives it, that a resumed run finishes
// the campaign, and that nothing finished is lost or run twice.
func TestResumeAfterKill(t *testing.T) {
	t.Parallel()
	for _, point := range []struct {
		name       string
		id, status string
		wantToRun  string
	}{
		{"during the first experiment", firstExp, results.StatusRunning, "4 experiments to run"},
		{"after the first experiment", secondExp, results.StatusRunning, "3 experiments to run (1 already done"},
	} {
		t.Run(point.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			model := uniqueModel(t)
			campaignMatrix(t, dir, model, "")
			root := filepath.Join(dir, "res")
			cmd, _ := startChild(t, dir, "run", "-m", "m.yaml", "--results", "res", "--no-analysis")
			waitStatus(t, root, point.id, point.status)
			var kept time.Time
			if point.id == secondExp {
				kept = modTime(t, filepath.Join(results.Dir(root, firstExp), "requests.parquet"))
			}
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
			noneLeft(t, model) // the kernel stops the servers of a killed campaign (Pdeathsig)

			r := runInProcess(t, dir, "run", "-m", "m.yaml", "--results", "res", "--no-analysis")
			if r.code != ExitOK || !strings.Contains(r.stderr, point.wantToRun) {
				t.Fatalf("resumed run: exit %d, want %q; stderr:\n%s", r.code, point.wantToRun, r.stderr)
			}
			st := statuses(t, root)
			for _, id := range []string{firstExp, secondExp, "t_G2_TP1_DP2_U4_rand64x16_O16", "t_G2_TP1_DP2_U8_rand64x16_O16"} {
				if st[id] != results.StatusDone {
					t.Errorf("%s is %q after resuming", id, st[id])
				}
				checkExperimentFiles(t, results.Dir(root, id))
			}
			if !kept.IsZero() && !modTime(t, filepath.Join(results.Dir(root, firstExp), "requests.parquet")).Equal(kept) {
				t.Errorf("the experiment finished before the kill was run again")
			}
			noneLeft(t, model)
		})
	}
}

// TestCtrlC interrupts a campaign once: it stops after the current experiment's files are
// written, stops the server, and exits with 130.
func TestCtrlC(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	model := uniqueModel(t)
	campaignMatrix(t, dir, model, "")
	root := filepath.Join(dir, "res")
	cmd, out := startChild(t, dir, "run", "-m", "m.yaml", "--results", "res", "--no-analysis")
	waitStatus(t, root, firstExp, results.StatusRunning)
	time.Sleep(500 * time.Millisecond) // inside the measured window
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != ExitInterrupted {
		t.Fatalf("exit %d (%v), want %d; output:\n%s", code, err, ExitInterrupted, out)
	}
	if !strings.Contains(out.String(), "run the same command again to resume") {
		t.Errorf("no resume hint:\n%s", out)
	}
	rec, err := results.ReadExperiment(results.Dir(root, firstExp))
	if err != nil || rec.Status != results.StatusFailed || rec.Reason != "interrupted" {
		t.Errorf("interrupted experiment: %+v, %v", rec, err)
	}
	if _, err := results.ReadParquet[results.Request](filepath.Join(results.Dir(root, firstExp), "requests.parquet")); err != nil {
		t.Errorf("the interrupted experiment's requests were not kept: %v", err)
	}
	if _, err := os.Stat(results.Dir(root, secondExp)); err == nil {
		t.Errorf("the campaign went on after Ctrl-C")
	}
	noneLeft(t, model)
}

func TestServerFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		extra   string
		code    int
		failed  map[string]string // experiment → substring of its reason
		stderr  string
		logWant string
	}{
		{
			name: "never healthy",
			extra: `  server_args: {"--fault-slow-start": ["0s", "1h"]}
`,
			code: ExitFailed,
			failed: map[string]string{
				"t_G1_TP1_DP1_U4_rand64x16_O16_fault-slow-start-1h": "server did not start: server not ready after 2s",
				"t_G1_TP1_DP1_U8_rand64x16_O16_fault-slow-start-1h": "server did not start",
			},
			stderr: "some experiments failed: 4 of 8",
		},
		{
			name: "dies mid-run",
			extra: `  server_args: {"--fault-crash-after-requests": ["0", "12"]}
`,
			code: ExitFailed,
			failed: map[string]string{
				"t_G1_TP1_DP1_U4_rand64x16_O16_fault-crash-after-requests-12": "server crashed during the experiment",
				"t_G1_TP1_DP1_U8_rand64x16_O16_fault-crash-after-requests-12": "server crashed during the experiment",
			},
			stderr: "G1_TP1_DP1_fault-crash-after-requests-12 died; restarting it",
		},
		{
			name:    "ignores SIGTERM",
			extra:   "",
			code:    ExitOK,
			logWant: "sending SIGKILL",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			model := uniqueModel(t)
			matrix := campaignMatrix(t, dir, model, "")
			data, _ := os.ReadFile(matrix)
			text := strings.Replace(string(data), "  max_tokens: [16]\n", "  max_tokens: [16]\n"+tt.extra, 1)
			text = strings.Replace(text, "startup_timeout: 20s", "startup_timeout: 2s", 1)
			if tt.name == "ignores SIGTERM" {
				text = strings.Replace(text, "stop_grace: 2s", "stop_grace: 300ms\n  env: {LLMSCALE_TEST_IGNORE_TERM: \"1\"}", 1)
			}
			write(t, matrix, text)
			r := runInProcess(t, dir, "run", "-m", "m.yaml", "--results", "res", "--no-analysis")
			if r.code != tt.code || !strings.Contains(r.stderr, tt.stderr) {
				t.Fatalf("exit %d, want %d with %q; stderr:\n%s", r.code, tt.code, tt.stderr, r.stderr)
			}
			if tt.code == ExitFailed && !strings.Contains(r.stderr, filepath.Join("res", results.ServersDir)) {
				t.Errorf("the hint does not point at the server logs:\n%s", r.stderr)
			}
			root := filepath.Join(dir, "res")
			for id, reason := range tt.failed {
				rec, err := results.ReadExperiment(results.Dir(root, id))
				if err != nil || rec.Status != results.StatusFailed || !strings.Contains(rec.Reason, reason) || rec.LogTail == "" {
					t.Errorf("%s: %q (%q), want failed with %q and the log tail; %v", id, rec.Status, rec.Reason, reason, err)
				}
			}
			done := 0
			for _, s := range statuses(t, root) {
				if s == results.StatusDone {
					done++
				}
			}
			if done == 0 {
				t.Errorf("no experiment finished: the campaign did not go on after the failure")
			}
			if tt.logWant != "" {
				log, _ := os.ReadFile(filepath.Join(root, results.ServersDir, "G1_TP1_DP1.log"))
				if !strings.Contains(string(log), tt.logWant) {
					t.Errorf("server log lacks %q:\n%s", tt.logWant, log)
				}
			}
			noneLeft(t, model)
		})
	}
}
