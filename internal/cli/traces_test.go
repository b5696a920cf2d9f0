package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmscale/llmscale/internal/results"
)

// TestRunCampaignWithTraces: with telemetry.traces the simulator exports a span per request to
// the campaign's receiver, and every experiment gets server_spans.parquet with at least 99% of
// its completed requests joined.
func TestRunCampaignWithTraces(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	model := uniqueModel(t)
	campaignMatrix(t, dir, model, "telemetry: {traces: true}\n")
	r := runInProcess(t, dir, "run", "-m", "m.yaml", "--results", "res")
	if r.code != ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	noneLeft(t, model)
	root := filepath.Join(dir, "res")
	st := statuses(t, root)
	if len(st) != 4 {
		t.Fatalf("got %d experiments, want 4", len(st))
	}
	for id := range st {
		checkSpansJoined(t, results.Dir(root, id))
	}
}

func checkSpansJoined(t *testing.T, dir string) {
	t.Helper()
	spans, err := results.ReadServerSpans(filepath.Join(dir, results.ServerSpansFile))
	if err != nil {
		t.Fatalf("%s: %v", dir, err)
	}
	reqs, err := results.ReadRequestsDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	joined := map[string]bool{}
	for _, s := range spans {
		if s.Joined {
			joined[s.ResponseID] = true
			if s.ClientTTFTNs != nil && (s.TTFTOverheadNs == nil || *s.TTFTOverheadNs < -1e6) {
				t.Errorf("%s: request %s: client TTFT %d, server %v, overhead %v", dir, s.ResponseID, *s.ClientTTFTNs, s.ServerTTFT, s.TTFTOverheadNs)
			}
		}
	}
	completed, hit := 0, 0
	for _, q := range reqs {
		if q.OK() {
			completed++
			if joined[q.ResponseID] {
				hit++
			}
		}
	}
	if completed == 0 || float64(hit) < 0.99*float64(completed) {
		t.Errorf("%s: %d of %d completed requests joined", dir, hit, completed)
	}
	rec, err := results.ReadExperiment(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(rec.Telemetry, "\n"), "completed requests joined") {
		t.Errorf("%s: experiment.json has no traces note: %q", dir, rec.Telemetry)
	}
}
