package results

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestServerMetricRoundTrip(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "raw", "e1", ServerMetricsFile)
	want := []ServerMetric{
		{ExpID: "e1", Phase: PhaseBefore, Scrape: -1, TimeUnixNs: 1_700_000_000_000_000_000, OffsetNs: -2_000_000,
			Name: "vllm:kv_cache_usage_perc", OriginalName: "vllm:gpu_cache_usage_perc", Type: "gauge",
			Labels: "engine=0,model_name=m", LabelMap: map[string]string{"engine": "0", "model_name": "m"},
			Engine: "0", ModelName: "m", Value: 0.25},
		{ExpID: "e1", Phase: PhaseDuring, Scrape: 3, TimeUnixNs: 1_700_000_003_000_000_000, OffsetNs: 3_000_000_000,
			Name: "vllm:request_queue_time_seconds_bucket", OriginalName: "vllm:request_queue_time_seconds_bucket",
			Type: "histogram", Labels: "engine=1,le=+Inf", LabelMap: map[string]string{"engine": "1", "le": "+Inf"},
			Engine: "1", Value: math.Inf(1)},
		{ExpID: "e1", Phase: PhaseAfter, Scrape: -1, Name: "llmscale:scrape_up", OriginalName: "llmscale:scrape_up",
			Type: "gauge", Value: 0, Error: "connection refused"},
	}
	if err := WriteParquet(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadParquet[ServerMetric](path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("round trip (-want +got):\n%s", diff)
	}
}
