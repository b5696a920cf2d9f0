package diagnose

import (
	"strings"
	"testing"

	"github.com/llmscale/llmscale/internal/aggregate"
)

// hasEvidence reports whether v cites column, and whether that evidence holds.
func hasEvidence(v Verdict, column string) (cited, holds bool) {
	for _, e := range v.Evidence {
		if e.Column == column {
			return true, e.Holds
		}
	}
	return false, false
}

func TestSpanRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		row      func() aggregate.Row
		want     string
		cites    string // a span column the verdict must cite
		sentence string
	}{
		{"no spans: unchanged", func() aggregate.Row { return server(63, 150, 0.3) }, CodeBatchCap, "", ""},
		{"batch cap cites the queue share", func() aggregate.Row {
			r := server(63, 150, 0.3)
			r.SpanQueueShare, r.TTFTOverheadShare = f(0.8), f(0.05)
			return r
		}, CodeBatchCap, "span_queue_share_of_ttft", ""},
		{"prefill budget from spans when /metrics has no queue histogram", func() aggregate.Row {
			r := server(12, 40, 0.2)
			r.IterationBudgetFrac, r.QueueShareOfTTFT, r.SpanQueueShare = f(0.95), nil, f(0.9)
			return r
		}, CodePrefillBudget, "span_queue_share_of_ttft", ""},
		{"prefill budget: spans do not overrule /metrics", func() aggregate.Row {
			r := server(12, 40, 0.2)
			r.IterationBudgetFrac, r.QueueShareOfTTFT, r.SpanQueueShare = f(0.95), f(0.1), f(0.9)
			return r
		}, CodeUnknown, "", ""}, // as without spans: /metrics says TTFT was not queueing
		{"large client path", func() aggregate.Row {
			r := server(10, 0, 0.1)
			r.TTFTOverheadShare, r.TTFTOverheadP50, r.SpanTTFTP50 = f(0.7), f(35), f(15)
			return r
		}, CodeLoadGenerator, "ttft_overhead_share", "The path between server and client was the limit"},
		{"small client path", func() aggregate.Row {
			r := server(10, 0, 0.1)
			r.TTFTOverheadShare = f(0.1)
			return r
		}, CodeNotSaturated, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := tt.row()
			d := Experiment(&r)
			if d.Verdict.Code != tt.want {
				t.Fatalf("verdict %s (%s), want %s", d.Verdict.Code, d.Verdict.Sentence, tt.want)
			}
			if tt.cites != "" {
				if cited, _ := hasEvidence(d.Verdict, tt.cites); !cited {
					t.Errorf("verdict does not cite %s: %+v", tt.cites, d.Verdict.Evidence)
				}
			}
			if !strings.Contains(d.Verdict.Sentence, tt.sentence) {
				t.Errorf("sentence %q lacks %q", d.Verdict.Sentence, tt.sentence)
			}
		})
	}
}
