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
		Burstiness: 0.5, MaxInflight: 8, Window: 3 * time.Second, Wall: 4500 * time.Millisecond, Interrupted: true,
		Sent: 40, Succeeded: 36, Failed: 3, NotSent: 1, Phases: map[string]int{"measured": 37, "warmup": 3},
		Failures: map[string]int{"http": 3}, FirstErrors: []string{"HTTP 503"}, GoodRequests: 30, RequestGoodput: 10,
		MaxRequests: 40, PromptTokens: 1000, OutputTokens: 2000, RequestThroughput: 12, OutputThroughput: 666.5,
		TotalThroughput: 1000.25, TTFT: st(50), TPOT: st(10), ITL: st(11), E2E: st(900), TTFTvLLM: st(49),
		ITLvLLM: st(12), VLLMDiffers: true, TokenITL: st(9), E2EFromDue: st(950), SendLag: st(0.5), RequestedRate: 12.5,
		ScheduledRate: 12.4, AchievedRate: 12.3, ClientCPU: 1500 * time.Millisecond, ClientCores: 0.33, Client: "epoll",
		Cores: 2, PeakConnections: 9, Connections: 10, PeakInFlight: 8, CapWaits: 4, WakeLag: st(0.1),
		Limits: []string{"send lag"}, ClientFailures: 2, OpenFilesLimit: 1024, HostCPUUtil: &util, HostSteal: &steal,
		HostContended: true, HostSharers: []string{"other (pid 1)"}}
	full.SLO.TTFT, full.SLO.TPOT = 500*time.Millisecond, 50*time.Millisecond
	plain := Summary{ExperimentID: "e2", WorkerCount: 1, Mode: "users", API: "completions", Users: 3, TTFT: st(5)}
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
