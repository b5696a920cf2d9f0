package cli

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/llmscale/llmscale/internal/results"
)

// workerFiles checks the files n workers left in dir and returns their merged requests: every
// worker wrote its own request file, the rows are distinct by (worker_id, seq), each worker's
// sequence numbers run from 0 without a gap, and the rows are exactly those the workers'
// summaries counted.
func workerFiles(t *testing.T, dir string, n int) []results.Request {
	t.Helper()
	rows, err := results.ReadRequestsDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	perWorker := map[int32]int64{}
	seen := map[[2]int64]bool{}
	for _, r := range rows {
		key := [2]int64{int64(r.WorkerID), r.Seq}
		if seen[key] {
			t.Errorf("request (worker %d, seq %d) twice", r.WorkerID, r.Seq)
		}
		seen[key] = true
		perWorker[r.WorkerID]++
	}
	counted := 0
	for k := range n {
		if _, err := os.Stat(filepath.Join(dir, fmt.Sprintf("requests-%d.parquet", k))); err != nil {
			t.Errorf("worker %d: %v", k, err)
		}
		for seq := range perWorker[int32(k)] {
			if !seen[[2]int64{int64(k), seq}] {
				t.Errorf("worker %d: seq %d missing of %d", k, seq, perWorker[int32(k)])
			}
		}
		var sum map[string]any
		if err := results.ReadJSON(filepath.Join(dir, fmt.Sprintf("summary-%d.json", k)), &sum); err != nil {
			t.Fatal(err)
		}
		counted += int(sum["sent"].(float64) + sum["not_sent"].(float64))
	}
	if len(perWorker) != n || counted != len(rows) {
		t.Errorf("%d rows from workers %v; the workers' summaries count %d, want the same from %d workers", len(rows), perWorker, counted, n)
	}
	return rows
}

// TestLoadWorkers runs `llmscale load --workers 3` against the simulator: three processes share
// an open-loop rate; the merged requests are exactly theirs, and together they keep the rate.
func TestLoadWorkers(t *testing.T) {
	t.Parallel()
	url, _, _ := startSim(t, "--port", "0", "--fixed-ttft", "5ms", "--fixed-itl", "2ms")
	dir := t.TempDir()
	r := runInProcess(t, dir, "load", "--host", url, "--workers", "3", "--rate", "30", "--arrival", "constant",
		"--run-time", "3s", "--warmup", "0s", "--cooldown", "0s", "--prompts", "random:32:8", "--out", "out")
	if r.code != ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "(3 workers together)") {
		t.Errorf("stdout has no combined summary:\n%s", r.stdout)
	}
	out := filepath.Join(dir, "out")
	rows := workerFiles(t, out, 3)
	// 10 req/s each for 3 s, on schedules offset by 1/30 s: 90 requests due in the window.
	if len(rows) < 85 || len(rows) > 90 {
		t.Errorf("%d requests, want 90 (at least 85)", len(rows))
	}
	var merged map[string]any
	if err := results.ReadJSON(filepath.Join(out, "summary.json"), &merged); err != nil {
		t.Fatal(err)
	}
	// The schedule is exact: 90 requests due in 3 s is 30 req/s. How many left in the window
	// depends on this machine's load (2 shared cores in CI), hence the generous tolerance.
	sched, achieved := merged["scheduled_rate"].(float64), merged["achieved_rate"].(float64)
	if merged["workers"].(float64) != 3 || merged["request_rate"].(float64) != 30 || math.Abs(sched-30) > 1e-9 ||
		math.Abs(achieved-30) > 6 {
		t.Errorf("merged summary: workers %v, requested %v, scheduled %v, achieved %v req/s; want 3, 30, 30, 30±6",
			merged["workers"], merged["request_rate"], sched, achieved)
	}
	if sent := merged["sent"].(float64); int(sent) != len(rows) {
		t.Errorf("merged summary counts %v sent, the files hold %d", sent, len(rows))
	}
	partsAchieved, hostCPU := 0.0, any(nil)
	for k := range 3 {
		var part map[string]any
		results.ReadJSON(filepath.Join(out, fmt.Sprintf("summary-%d.json", k)), &part)
		if got := part["request_rate"].(float64); got != 10 {
			t.Errorf("worker %d was asked %v req/s, want its third, 10", k, got)
		}
		partsAchieved += part["achieved_rate"].(float64)
		if c, ok := part["host_cpu_util"].(float64); ok && (hostCPU == nil || c > hostCPU.(float64)) {
			hostCPU = c
		}
	}
	if math.Abs(partsAchieved-achieved) > 0.5 {
		t.Errorf("the workers achieved %v req/s together, the merged summary says %v", partsAchieved, achieved)
	}
	// The machine's figures are merged too: the busiest worker's view of the host.
	if merged["host_cpu_util"] != hostCPU {
		t.Errorf("merged host_cpu_util %v, want the workers' highest, %v", merged["host_cpu_util"], hostCPU)
	}
}

// TestCampaignLoadWorkers runs a campaign whose experiment's load comes from two worker
// processes (load.workers: 2) on this machine.
func TestCampaignLoadWorkers(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	model := uniqueModel(t)
	campaignMatrix(t, dir, model, "")
	r := runInProcess(t, dir, "run", "-m", "m.yaml", "--results", "res", "--no-analysis",
		"--set", "load.workers=2", "--set", "factors.dp=1", "--set", "factors.users=4")
	if r.code != ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	noneLeft(t, model)
	exp := results.Dir(filepath.Join(dir, "res"), firstExp)
	workerFiles(t, exp, 2)
	for k := range 2 {
		var load map[string]any
		if err := results.ReadJSON(filepath.Join(exp, fmt.Sprintf("load-%d.json", k)), &load); err != nil {
			t.Fatal(err)
		}
		if load["users"].(float64) != 4 || load["workers"].(float64) != 2 || load["worker_id"].(float64) != float64(k) {
			t.Errorf("worker %d ran %v", k, load)
		}
	}
	rec, err := results.ReadExperiment(exp)
	if err != nil || rec.Status != results.StatusDone || rec.Load.Workers != 2 {
		t.Errorf("experiment.json: %+v, %v", rec, err)
	}
	// The workers' view of the machine reaches the experiment's record, merged.
	if runtime.GOOS == "linux" && (rec.Client == nil || rec.Client.HostCPUUtil == nil || rec.Client.HostSteal == nil) {
		t.Errorf("experiment.json client: %+v, want the workers' host CPU and steal", rec.Client)
	}
}

// TestLoadWorkersClientFailedExit: `llmscale load --workers 2` whose worker processes have an
// open-file limit of 24 (a wrapper lowers it before running llmscale) for 64 requests in
// flight each: most requests fail on the workers' own limits, the merged summary counts them
// as client failures, and the command exits non-zero with the client's limits as the hint.
func TestLoadWorkersClientFailedExit(t *testing.T) {
	t.Parallel()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh to lower the workers' open-file limit with")
	}
	url, _, _ := startSim(t, "--port", "0", "--fixed-ttft", "100ms", "--fixed-itl", "50ms")
	dir := t.TempDir()
	exe, _ := os.Executable()
	wrapper := filepath.Join(dir, "starved-llmscale")
	write(t, wrapper, fmt.Sprintf("#!%s\nulimit -n 24 || exit 3\nexec %q \"$@\"\n", sh, exe))
	if err := os.Chmod(wrapper, 0o755); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), Env{Args: []string{"load", "--host", url, "--workers", "2", "--concurrency", "128",
		"--run-time", "1s", "--warmup", "0s", "--cooldown", "0s", "--prompts", "random:16:4", "--out", "out"},
		Getenv: func(string) string { return "" }, Dir: dir, Executable: wrapper, Environ: childEnviron(), Hostname: "test",
		Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr})
	var merged map[string]any
	if err := results.ReadJSON(filepath.Join(dir, "out", "summary.json"), &merged); err != nil {
		t.Fatalf("exit %d, no merged summary: %v\nstderr:\n%s", code, err, stderr.String())
	}
	failures, sent := merged["client_failures"].(float64), merged["sent"].(float64)
	if code != ExitFailed || 2*failures <= sent || !strings.Contains(stderr.String(), "client's own limits") {
		t.Errorf("exit %d, %v of %v requests failed on the client; want exit %d and most failed on the client\nstderr:\n%s",
			code, failures, sent, ExitFailed, stderr.String())
	}
}
