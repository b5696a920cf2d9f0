package cli

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSweep: the sweep runs the synchronous and throughput levels, then the rates between, each
// in its folder, and writes sweep.json with a knee; a load mode beside --sweep is refused.
func TestSweep(t *testing.T) {
	t.Parallel()
	// Requests of 20 ms that are mostly waiting, so that 8 in flight beat one at a time even
	// on a host whose CPUs are shared.
	srv := httptest.NewServer(&streamHandler{tokens: 20})
	defer srv.Close()
	code, out, errOut := runCLI(t, map[string]string{"VLLM_HOST": srv.URL}, "load", "--sweep", "2", "--sweep-max-concurrency", "8",
		"--run-time", "800ms", "--warmup", "200ms", "--cooldown", "0s", "--max-tokens", "20", "--quiet", "--out", "sw")
	if code != ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	data, err := os.ReadFile(filepath.Join(dirOf(errOut), "sw", "sweep.json"))
	if err != nil {
		t.Fatal(err)
	}
	var res sweepResult
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatal(err)
	}
	names := []string{}
	for _, p := range res.Points {
		names = append(names, p.Name)
	}
	if strings.Join(names, ",") != "sync,throughput,rate,rate" || res.KneeReason == "" || !strings.Contains(out, "◀ knee") {
		t.Fatalf("points %v, knee %d (%s); stdout:\n%s", names, res.Knee, res.KneeReason, out)
	}
	if r := res.Points; !(r[2].Requested > 0 && r[2].Requested < r[3].Requested) {
		t.Errorf("rates %v, %v: want increasing positive rates between the two levels", r[2].Requested, r[3].Requested)
	}
	for _, d := range res.Dirs {
		if _, err := os.Stat(filepath.Join(d, "requests.parquet")); err != nil {
			t.Error(err)
		}
	}
	code, _, errOut = runCLI(t, map[string]string{"VLLM_HOST": srv.URL}, "load", "--sweep", "2", "--rate", "5")
	if code != ExitUsage || !strings.Contains(errOut, "--sweep 2 and --rate") {
		t.Errorf("--sweep with --rate: exit %d, stderr %q; want %d naming both", code, errOut, ExitUsage)
	}
}
