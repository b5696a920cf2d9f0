package analysis

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/llmscale/llmscale/internal/aggregate"
	"github.com/llmscale/llmscale/internal/diagnose"
)

// binDir holds the llmscale binary the end-to-end test builds (once, on first use).
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "llmscale-analysis-test-")
	if err != nil {
		panic(err)
	}
	binDir = dir
	goleak.VerifyTestMain(exitHook{m, func() { os.RemoveAll(dir) }})
}

// exitHook runs cleanup after the tests, before goleak checks and exits.
type exitHook struct {
	m       *testing.M
	cleanup func()
}

func (h exitHook) Run() int {
	defer h.cleanup()
	return h.m.Run()
}

var (
	buildOnce sync.Once
	buildErr  error
)

// llmscaleBinary builds cmd/llmscale once into binDir.
func llmscaleBinary(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go tool to build llmscale with")
	}
	bin := filepath.Join(binDir, "llmscale")
	buildOnce.Do(func() {
		out, err := exec.Command("go", "build", "-o", bin, "github.com/llmscale/llmscale/cmd/llmscale").CombinedOutput()
		if err != nil {
			buildErr = err
			t.Logf("go build: %s", out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build llmscale: %v", buildErr)
	}
	return bin
}

// e2eMatrix is a small campaign on the simulator: TP-only 1→2 over PCIe and DP-only 1→2→4,
// each at 2 users (far below the batch cap of 8 per rank) and 48 (at it), 2-second windows.
const e2eMatrix = `campaign: e2e
engine: sim
api: completions
factors:
  gpus: [1, 2, 4]
  tp: [1, 2]
  dp: [1, 2, 4]
  users: [2, 48]
  prompts: ["random:64:32"]
  max_tokens: [32]
  batch_size: [8]
rules:
  exclude:
    - {tp: 2, dp: 2}
load:
  spawn_rate: 0
  run_time: 2s
  warmup: 1s
  cooldown: 1ms
  seed: 7
slo:
  ttft: 500ms
server:
  sim:
    interconnect: pcie
    speedup: 2
telemetry:
  interval: 250ms
`

// TestRunEndToEnd runs `llmscale run` on the simulator through real processes (the CLI, the
// simulator servers it starts, HTTP), which aggregates, fits and diagnoses at the end; then
// runs aggregate, fit and diagnose alone on the tree. Timings are real, so the assertions are
// on what holds under any load: the server-side facts and the verdicts they allow.
func TestRunEndToEnd(t *testing.T) {
	t.Parallel()
	bin := llmscaleBinary(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "m.yaml"), []byte(e2eMatrix), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	llmscale := func(args ...string) string {
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("llmscale %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	out := llmscale("run", "--matrix", "m.yaml", "--results", "results")
	if !strings.Contains(out, "analysis: 8 experiments, ") {
		t.Errorf("run did not end with the analysis:\n%s", out)
	}
	root := filepath.Join(dir, "results")
	for _, f := range []string{aggregate.SummaryParquet, aggregate.SummaryCSV, AmdahlFile, ScalingFile, diagnose.CSVFile, diagnose.JSONFile} {
		if _, err := os.Stat(filepath.Join(root, "agg", f)); err != nil {
			t.Errorf("run wrote no %s: %v", f, err)
		}
	}
	checkE2ERows(t, root)
	checkE2EDiagnosis(t, root)
	for _, stage := range []string{"aggregate", "fit", "diagnose"} {
		if out := llmscale(stage, "--results", "results"); !strings.Contains(out, "e2e_G") && !strings.Contains(out, "DP-only") {
			t.Errorf("llmscale %s alone printed:\n%s", stage, out)
		}
	}
	amdahl, err := os.ReadFile(filepath.Join(root, "agg", AmdahlFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(amdahl), "series,strategy,strategy_label,prompts,max_tokens") ||
		!strings.Contains(string(amdahl), "DP-only · rand64x32 · 32 tok · B8,dp,DP-only,rand64x32,32,8,0,,users,sim,") {
		t.Errorf("amdahl_fit.csv:\n%s", amdahl)
	}
}

func checkE2ERows(t *testing.T, root string) {
	t.Helper()
	rows, err := aggregate.Read(filepath.Join(root, "agg"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 8 {
		t.Fatalf("%d summary rows, want 8", len(rows))
	}
	for _, r := range rows {
		if r.Status != "done" || r.Completed == 0 || r.OutputThroughput == nil || r.RunningMean == nil ||
			r.BatchCapTotal != 8*r.DP || r.Interconnect != "pcie" || r.GPUTelemetry != "sim" || r.GPUUtilMean == nil ||
			r.GPUCount != r.TP*r.DP {
			t.Errorf("%s: status %s, %d completed, throughput %v, running %v, cap %d, interconnect %q, gpu %q",
				r.ExpID, r.Status, r.Completed, r.OutputThroughput, r.RunningMean, r.BatchCapTotal, r.Interconnect, r.GPUTelemetry)
			continue
		}
		capFrac := aggregate.V(r.RunningCapFraction)
		switch r.Users {
		case 2:
			if capFrac >= 0.5 || r.Saturated {
				t.Errorf("%s: 2 users fill %.2f of the batch cap, saturated %v", r.ExpID, capFrac, r.Saturated)
			}
		case 48:
			if capFrac < 0.8 || !r.Saturated { // 3× the cap in users keeps it full; a starved host lags the refill a little
				t.Errorf("%s: 48 users fill %.2f of the batch cap, saturated %v (%s)", r.ExpID, capFrac, r.Saturated, r.SaturatedReason)
			}
		}
	}
}

func checkE2EDiagnosis(t *testing.T, root string) {
	t.Helper()
	d, err := diagnose.Read(filepath.Join(root, "agg"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := aggregate.Read(filepath.Join(root, "agg"))
	if err != nil {
		t.Fatal(err)
	}
	contended := map[string]bool{}
	for _, r := range rows {
		contended[r.ExpID] = aggregate.V(r.HostCPUUtil) >= diagnose.HostBusyFraction || aggregate.V(r.HostSteal) >= diagnose.HostStealFraction
	}
	for _, e := range d.Experiments {
		allowed := []string{diagnose.CodeNotSaturated, diagnose.CodeLoadGenerator} // a starved client is possible under load
		if strings.Contains(e.ExpID, "_U48_") {
			allowed = []string{diagnose.CodeBatchCap}
		}
		// The simulators and the client share this machine: when the host sampling saw it
		// contended, the diagnosis rightly distrusts the measurement and must say so.
		if contended[e.ExpID] && strings.Contains(e.Verdict.Sentence, "contended") {
			allowed = append(allowed, diagnose.CodeUnknown, diagnose.CodeSuspect)
		}
		if !contains(allowed, e.Verdict.Code) || len(e.Verdict.Evidence) == 0 {
			t.Errorf("%s: verdict %s, want one of %v: %s", e.ExpID, e.Verdict.Code, allowed, e.Verdict.Sentence)
		}
	}
	got := map[string]string{}
	for _, s := range d.Series {
		got[strings.Fields(s.Series)[0]] = s.Verdict.Code
		t.Logf("%s: %s — %s", s.Series, s.Verdict.Code, s.Verdict.Sentence)
	}
	if got["TP-only"] != diagnose.CodeTPComm {
		t.Errorf("TP over PCIe: %q, want %s", got["TP-only"], diagnose.CodeTPComm)
	}
	if got["DP-only"] == "" {
		t.Errorf("no DP-only series verdict: %v", got)
	}
}

func contains(v []string, s string) bool {
	for _, x := range v {
		if x == s {
			return true
		}
	}
	return false
}
