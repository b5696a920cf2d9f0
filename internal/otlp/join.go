package otlp

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/llmscale/llmscale/internal/results"
)

// JoinStats say how many spans matched the experiment's requests.
type JoinStats struct {
	Spans           int // spans of the experiment's window
	Joined          int // spans matched to a request
	Unknown         int // spans whose id matches no request (another client, an earlier experiment): kept, not joined
	Completed       int // requests that succeeded
	CompletedJoined int // of those, with a span
}

// JoinedRatio is the share of completed requests that have a span; 0 with none completed.
func (s JoinStats) JoinedRatio() float64 {
	if s.Completed == 0 {
		return 0
	}
	return float64(s.CompletedJoined) / float64(s.Completed)
}

// Join matches spans to the requests of one experiment and fills the client columns.
//
// The key is the id the server streams back (requests.parquet response_id). vLLM names its
// span with the same id for chat ("chatcmpl-<id>") and with a choice suffix for completions
// ("cmpl-<id>-0"); some versions add an internal suffix ("-<8 hex>"). So a span matches the
// request whose response id is its own id or its id without one or two trailing "-…" parts.
// A request is joined to one span at most; a second span for it counts as unknown.
func Join(expID string, spans []results.ServerSpan, reqs []results.Request) ([]results.ServerSpan, JoinStats) {
	byID := make(map[string]int, len(reqs))
	for i, q := range reqs {
		if q.ResponseID != "" {
			byID[q.ResponseID] = i
		}
	}
	used := make([]bool, len(reqs))
	out := make([]results.ServerSpan, len(spans))
	st := JoinStats{Spans: len(spans)}
	for i, s := range spans {
		s.ExperimentID = expID
		if j, ok := match(byID, s.RequestID); ok && !used[j] {
			used[j] = true
			fillClient(&s, reqs[j])
			st.Joined++
		} else {
			st.Unknown++
		}
		out[i] = s
	}
	for j, q := range reqs {
		if q.OK() {
			st.Completed++
			if used[j] {
				st.CompletedJoined++
			}
		}
	}
	return out, st
}

// match finds the request of a span id: the id itself, then without its last one or two
// "-" parts.
func match(byID map[string]int, id string) (int, bool) {
	for range 3 {
		if j, ok := byID[id]; ok {
			return j, true
		}
		cut := strings.LastIndexByte(id, '-')
		if cut <= 0 {
			return 0, false
		}
		id = id[:cut]
	}
	return 0, false
}

func fillClient(s *results.ServerSpan, q results.Request) {
	s.Joined, s.ResponseID, s.WorkerID, s.Seq, s.Phase = true, q.ResponseID, q.WorkerID, q.Seq, q.Phase
	if !q.OK() {
		return
	}
	if q.TTFTNs > 0 {
		s.ClientTTFTNs = ptr(q.TTFTNs)
		if s.ServerTTFT != nil {
			s.TTFTOverheadNs = ptr(q.TTFTNs - *s.ServerTTFT)
		}
	}
	if q.E2ENs > 0 {
		s.ClientE2ENs = ptr(q.E2ENs)
		if s.ServerE2E != nil {
			s.E2EOverheadNs = ptr(q.E2ENs - *s.ServerE2E)
		}
	}
}

func ptr(v int64) *int64 { return &v }

// Covers reports whether every completed request of reqs has a span among spans: the
// campaign stops waiting for late exports then.
func Covers(spans []results.ServerSpan, reqs []results.Request) bool {
	byID := make(map[string]int, len(reqs))
	for i, q := range reqs {
		if q.OK() && q.ResponseID != "" {
			byID[q.ResponseID] = i
		}
	}
	seen := 0
	hit := make([]bool, len(reqs))
	for _, s := range spans {
		if j, ok := match(byID, s.RequestID); ok && !hit[j] {
			hit[j] = true
			seen++
		}
	}
	return seen == len(byID)
}

// Collect waits until every completed request of reqs has a span, wait has passed or ctx
// ends, then takes the receiver's spans and joins them (Join).
func Collect(ctx context.Context, rcv *Receiver, expID string, reqs []results.Request, wait time.Duration) ([]results.ServerSpan, JoinStats) {
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for done := false; !done; {
		covered := false
		rcv.Pending(func(spans []results.ServerSpan) { covered = Covers(spans, reqs) })
		if covered {
			break
		}
		select {
		case <-ctx.Done():
			done = true
		case <-deadline.C:
			done = true
		case <-tick.C:
		}
	}
	return Join(expID, rcv.Take(), reqs)
}

// Note is the one line that says what the spans of an experiment gave.
func Note(st JoinStats, rs Stats) string {
	if st.Spans == 0 {
		return fmt.Sprintf("traces: the server sent no request spans (%d exports, %d rejected, %d spans without gen_ai.request.id); server phase columns are empty",
			rs.Exports, rs.Rejected, rs.Other)
	}
	return fmt.Sprintf("traces: %d spans, %d of %d completed requests joined (%.1f%%), %d spans of unknown requests",
		st.Spans, st.CompletedJoined, st.Completed, 100*st.JoinedRatio(), st.Unknown)
}
