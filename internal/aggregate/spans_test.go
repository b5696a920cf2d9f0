package aggregate

import (
	"path/filepath"
	"testing"

	"github.com/llmscale/llmscale/internal/results"
)

func ns(ms float64) *int64 { v := int64(ms * 1e6); return &v }

func TestFillSpans(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	span := func(phase string, joined bool, queue, ttft, clientTTFT float64) results.ServerSpan {
		s := results.ServerSpan{Joined: joined, Phase: phase, QueueNs: ns(queue), PrefillNs: ns(ttft - queue),
			DecodeNs: ns(100), ServerTTFT: ns(ttft), ServerE2E: ns(ttft + 100)}
		if clientTTFT > 0 {
			s.ClientTTFTNs, s.TTFTOverheadNs = ns(clientTTFT), ns(clientTTFT-ttft)
		}
		return s
	}
	rows := []results.ServerSpan{
		span(results.PhaseMeasure, true, 10, 20, 25),
		span(results.PhaseMeasure, true, 30, 40, 50),
		span(results.PhaseMeasure, true, 50, 60, 75),
		span(results.PhaseWarmup, true, 1000, 2000, 2500), // outside the window
		span(results.PhaseMeasure, false, 1000, 2000, 0),  // not joined
		span(results.PhaseMeasure, true, 1000, 2000, 0),   // joined to a request that failed
	}
	if err := results.WriteServerSpans(filepath.Join(dir, results.ServerSpansFile), rows); err != nil {
		t.Fatal(err)
	}
	r := Row{Completed: 4}
	if err := fillSpans(&r, dir, results.Experiment{}); err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name string
		got  *float64
		want float64
	}{
		{"spans_joined_fraction", r.SpansJoinedFraction, 0.75},
		{"span_queue_ms_p50", r.SpanQueueP50, 30},
		{"span_queue_ms_p90", r.SpanQueueP90, 46},
		{"span_ttft_ms_p99", r.SpanTTFTP99, 59.6},
		{"span_decode_ms_p50", r.SpanDecodeP50, 100},
		{"ttft_overhead_ms_p50", r.TTFTOverheadP50, 10},
		{"span_queue_share_of_ttft", r.SpanQueueShare, 0.75},
		{"ttft_overhead_share", r.TTFTOverheadShare, 0.2},
	}
	for _, c := range checks {
		if c.got == nil || *c.got < c.want-1e-9 || *c.got > c.want+1e-9 {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if r.ServerSpans != 6 || r.SpanSchedulerP50 != nil || r.E2EOverheadP50 != nil {
		t.Errorf("server_spans %d, scheduler %v, e2e overhead %v", r.ServerSpans, r.SpanSchedulerP50, r.E2EOverheadP50)
	}
}

func TestFillSpansWithoutFile(t *testing.T) {
	t.Parallel()
	r := Row{Completed: 4}
	if err := fillSpans(&r, t.TempDir(), results.Experiment{}); err != nil || r.SpansJoinedFraction != nil || r.SpanQueueP50 != nil {
		t.Fatalf("no file: err %v, row %+v", err, r)
	}
}
