package loadgen

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
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
	got := SummarizeRecords(rows, cfg.Warmup, cfg.Warmup+cfg.RunTime, false)
	if got.Succeeded == 0 {
		t.Fatal("no request in the window")
	}
	type window struct {
		Succeeded, Failed, Sent, NotSent                     int
		PromptTokens, OutputTokens                           int64
		RequestThroughput, OutputThroughput, TotalThroughput float64
		TTFT, TPOT, ITL, E2E, TokenITL, E2EFromDue, SendLag  Stat
		AchievedRate                                         float64
		Window                                               time.Duration
	}
	pick := func(s Summary) window {
		return window{s.Succeeded, s.Failed, s.Sent, s.NotSent, s.PromptTokens, s.OutputTokens, s.RequestThroughput,
			s.OutputThroughput, s.TotalThroughput, s.TTFT, s.TPOT, s.ITL, s.E2E, s.TokenITL, s.E2EFromDue, s.SendLag,
			s.AchievedRate, s.Window}
	}
	if diff := cmp.Diff(pick(live), pick(got), cmpopts.EquateNaNs()); diff != "" {
		t.Errorf("summary from records differs from the live one (-live +records):\n%s", diff)
	}
}
