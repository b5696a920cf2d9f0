package diagnose

import (
	"fmt"
	"math"

	"github.com/llmscale/llmscale/internal/aggregate"
)

// ClientPathShare: the median request spending at least this share of the TTFT its client saw
// outside the server's own span (client TTFT − the span's TTFT, from telemetry.traces) means
// the path between server and client — network, HTTP, the load generator reading the stream —
// is what the user waits for.
const ClientPathShare = 0.5

// spanQueueEvidence is the per-request queue share of the server's TTFT, from its spans; a
// missing row when the experiment has none.
func (f facts) spanQueueEvidence() Evidence {
	return atLeast("queue time ÷ server TTFT, median request (server spans)", "span_queue_share_of_ttft",
		aggregate.V(f.r.SpanQueueShare), QueueShareOfTTFT)
}

// clientPathEvidence is the share of the client's TTFT spent outside the server's span.
func (f facts) clientPathEvidence() Evidence {
	return atLeast("client path ÷ client TTFT, median request (server spans)", "ttft_overhead_share",
		aggregate.V(f.r.TTFTOverheadShare), ClientPathShare)
}

// withSpans adds the server spans' evidence to the rules' outcomes: a queue-dominated TTFT is
// cited by the batch-cap, KV-cache and prefill-budget rules (and stands in for the /metrics
// queue share where the server exports none); a large client path makes the load generator
// (or the network) the limit. Without spans nothing changes.
func (f facts) withSpans(outs []outcome) []outcome {
	sq, cp := f.spanQueueEvidence(), f.clientPathEvidence()
	for i := range outs {
		o := &outs[i]
		switch o.code {
		case CodeBatchCap, CodeKVCache:
			if !sq.Missing() {
				o.evidence = append(o.evidence, sq)
			}
		case CodePrefillBudget:
			f.prefillFromSpans(o, sq)
		case CodeLoadGenerator:
			f.clientPath(o, cp)
		}
	}
	return outs
}

// prefillFromSpans lets the spans' queue share stand in for the /metrics one when the server
// exports no queue histogram, and cites it either way.
func (f facts) prefillFromSpans(o *outcome, sq Evidence) {
	if sq.Missing() {
		return
	}
	o.evidence = append(o.evidence, sq)
	if !math.IsNaN(f.queueShare) || o.holds {
		return
	}
	var fill, q bool
	for _, e := range o.evidence {
		switch e.Column {
		case "iteration_budget_fraction":
			fill = e.Holds
		case f.queueCol:
			q = e.Holds
		}
	}
	o.holds = fill && q && sq.Holds
}

// clientPath cites the client path and makes the load-generator rule hold when it is large.
func (f facts) clientPath(o *outcome, cp Evidence) {
	if cp.Missing() {
		return
	}
	o.evidence = append(o.evidence, cp)
	if !cp.Holds {
		return
	}
	tail := fmt.Sprintf("the median request spent %s of the TTFT its client saw outside the server's own span "+
		"(p50 %s ms against a server TTFT of %s ms): the network or the load generator, not the engine, is what users "+
		"waited for; check the client's CPU and the network between them.",
		pct(aggregate.V(f.r.TTFTOverheadShare)), num(aggregate.V(f.r.TTFTOverheadP50)), num(aggregate.V(f.r.SpanTTFTP50)))
	if o.holds {
		o.sentence += " Also, " + tail
	} else {
		o.sentence = "The path between server and client was the limit: " + tail
	}
	o.holds = true
	o.margin = anyOf(o.evidence...)
}
