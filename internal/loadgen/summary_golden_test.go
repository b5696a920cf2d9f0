package loadgen

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/llmscale/llmscale/internal/golden"
	"github.com/llmscale/llmscale/internal/results"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestSummaryFileGolden: summary.json is written byte for byte as documented, with and
// without the keys that appear only sometimes (objectives, a request limit, vLLM's own
// statistics, the host's figures).
func TestSummaryFileGolden(t *testing.T) {
	st := func(base float64) Stat {
		return Stat{N: 3, Mean: base, Std: base / 10, Median: base - 1, P90: base + 1, P95: base + 2, P99: base + 3, Max: base + 4}
	}
	util, steal := 0.5, 0.01
	full := Summary{ExperimentID: "e1", WorkerID: 1, WorkerCount: 2, Mode: "rate", API: "chat", Model: "m",
		Targets: []string{"http://a:1"}, TargetsDown: []string{"http://b:1"}, Seed: 42, Rate: 12.5, Arrival: "gamma",
		Burstiness: 0.5, MaxInflight: 8, Wall: 4500 * time.Millisecond, Interrupted: true, MaxRequests: 40,
		RequestedRate: 12.5, ClientCPU: 1500 * time.Millisecond, ClientCores: 0.33, Client: "epoll", Cores: 2,
		PeakConnections: 9, Connections: 10, PeakInFlight: 8, CapWaits: 4, WakeLag: st(0.1),
		Limits: []string{"send lag"}, ClientFailures: 2, OpenFilesLimit: 1024, HostCPUUtil: &util, HostSteal: &steal,
		HostContended: true, HostSharers: []string{"other (pid 1)"}}
	w := &full.Summary // the measured window's figures
	w.Window, w.Sent, w.Succeeded, w.Failed, w.NotSent = 3*time.Second, 40, 36, 3, 1
	w.Phases, w.Failures, w.FirstErrors = map[string]int{"measured": 37, "warmup": 3}, map[string]int{"http": 3}, []string{"HTTP 503"}
	w.GoodRequests, w.RequestGoodput, w.PromptTokens, w.OutputTokens = 30, 10, 1000, 2000
	w.RequestThroughput, w.OutputThroughput, w.TotalThroughput = 12, 666.5, 1000.25
	w.TTFT, w.TPOT, w.ITL, w.E2E, w.TTFTvLLM, w.ITLvLLM, w.VLLMDiffers = st(50), st(10), st(11), st(900), st(49), st(12), true
	w.TokenITL, w.E2EFromDue, w.SendLag, w.ScheduledRate, w.AchievedRate = st(9), st(950), st(0.5), 12.4, 12.3
	full.SLO.TTFT, full.SLO.TPOT = 500*time.Millisecond, 50*time.Millisecond
	plain := Summary{ExperimentID: "e2", WorkerCount: 1, Mode: "users", API: "completions", Users: 3}
	plain.TTFT = st(5)
	for name, s := range map[string]Summary{"full": full, "plain": plain} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "summary.json")
			if err := results.WriteJSON(path, s.JSON()); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", "summary-"+name+".golden.json"), got, *update)
		})
	}
}
