package loadgen

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/llmscale/llmscale/internal/stats"
)

// TestSummarizeRecordsMatchesLive: the summary computed from the records afterwards (as the
// aggregation does from requests.parquet) equals the live summary's window figures.
func TestSummarizeRecordsMatchesLive(t *testing.T) {
	t.Parallel()
	srv := &fakeServer{ttft: 50 * time.Millisecond, itl: 10 * time.Millisecond, perChunk: 2, continuous: true}
	live, err, rows := runFake(t, srv, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := baseConfig(nil)
	got := stats.SummarizeRecords(rows, stats.Span{From: cfg.Warmup, To: cfg.Warmup + cfg.RunTime})
	if got.Succeeded == 0 {
		t.Fatal("no request in the window")
	}
	if diff := cmp.Diff(live.Summary, got, cmpopts.EquateNaNs()); diff != "" {
		t.Errorf("summary from records differs from the live one (-live +records):\n%s", diff)
	}
}
