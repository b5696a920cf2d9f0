package sim

import (
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmscale/llmscale/internal/otlp"
	"github.com/llmscale/llmscale/internal/results"
)

// TestSpansMatchTimeline: with --otlp-traces-endpoint the simulator sends one span per request,
// over each protocol, named with the id vLLM would use, and its phases add up on the
// simulator's own timeline (the chunk record).
func TestSpansMatchTimeline(t *testing.T) {
	t.Parallel()
	for _, protocol := range []string{TracesGRPC, TracesProtobuf, TracesJSON} {
		t.Run(protocol, func(t *testing.T) {
			t.Parallel()
			rcv, err := otlp.Start(otlp.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer rcv.Close()
			endpoint := rcv.GRPCEndpoint()
			if protocol != TracesGRPC {
				endpoint = rcv.HTTPEndpoint()
			}
			record := filepath.Join(t.TempDir(), "chunks.parquet")
			cfg := Config{Speedup: 20, MaxNumSeqs: 4, TracesEndpoint: endpoint, TracesProtocol: protocol, RecordChunks: record}
			ts := startServer(t, cfg)
			sendMixed(t, ts, 12)
			if err := ts.stop(); err != nil {
				t.Fatal(err)
			}
			spans := rcv.Take()
			if st := rcv.Stats(); st.Rejected != 0 || len(spans) != 12 {
				t.Fatalf("%d spans (stats %+v) for 12 requests", len(spans), st)
			}
			chunks, err := results.ReadParquet[ChunkRecord](record)
			if err != nil {
				t.Fatal(err)
			}
			checkSpans(t, spans, chunks)
		})
	}
}

// sendMixed sends n streamed requests, half chat and half completions, all at once (so some
// queue behind max-num-seqs).
func sendMixed(t *testing.T, ts *testServer, n int) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			path, body := "/v1/completions", map[string]any{"model": DefaultModel, "prompt": "hello there", "max_tokens": 8 + i,
				"stream": true, "ignore_eos": true}
			if i%2 == 1 {
				path, body = "/v1/chat/completions", map[string]any{"model": DefaultModel, "max_tokens": 8 + i,
					"messages": []map[string]string{{"role": "user", "content": "hello"}}, "stream": true, "ignore_eos": true}
			}
			collect(t, ts.post(t, path, body))
		})
	}
	wg.Wait()
}

// timeline is one response as the simulator recorded its chunks.
type timeline struct {
	chat                 bool
	arrival, first, last int64 // Unix ns: arrival; when the first and last content chunks were due
	written              int64 // when the last content chunk was written
	tokens               int64
}

func timelines(chunks []ChunkRecord) map[string]*timeline {
	out := map[string]*timeline{}
	for _, c := range chunks {
		tl := out[c.RequestID]
		if tl == nil {
			tl = &timeline{arrival: c.ArrivalUnixNs}
			out[c.RequestID] = tl
		}
		switch c.Kind {
		case ChunkRole:
			tl.chat = true
		case ChunkContent:
			if tl.first == 0 {
				tl.first = c.DueUnixNs
			}
			tl.last, tl.written = c.DueUnixNs, c.WrittenUnixNs
			tl.tokens += int64(c.Tokens)
		}
	}
	return out
}

func checkSpans(t *testing.T, spans []results.ServerSpan, chunks []ChunkRecord) {
	t.Helper()
	tls := timelines(chunks)
	const slack = int64(time.Millisecond)
	queued := 0
	for _, s := range spans {
		id := s.RequestID
		if !strings.HasPrefix(id, "chatcmpl-") {
			id = strings.TrimSuffix(id, "-0") // completions: vLLM names the span after the prompt's choice
		}
		tl := tls[id]
		if tl == nil || tl.chat != strings.HasPrefix(id, "chatcmpl-") {
			t.Errorf("span %q matches no response of its kind", s.RequestID)
			continue
		}
		q, pre, dec, inf, ttft, e2e := *s.QueueNs, *s.PrefillNs, *s.DecodeNs, *s.InferenceNs, *s.ServerTTFT, *s.ServerE2E
		if d := inf - (pre + dec); d < -1000 || d > 1000 {
			t.Errorf("%s: inference %d ≠ prefill %d + decode %d", id, inf, pre, dec)
		}
		if q+inf > e2e || ttft > e2e || q < 0 || pre <= 0 || dec < 0 {
			t.Errorf("%s: queue %d + inference %d, ttft %d against e2e %d", id, q, inf, ttft, e2e)
		}
		// The span starts when the model got the request (after the HTTP handler's arrival);
		// from there its TTFT and E2E land on the first and last content chunks' due times.
		if d := s.StartUnixNs - tl.arrival; d < -slack {
			t.Errorf("%s: span starts %d ns before the HTTP arrival", id, -d)
		}
		if d := s.StartUnixNs + ttft - tl.first; d < -slack || d > slack {
			t.Errorf("%s: span start + ttft is %d ns from the first chunk's due time", id, d)
		}
		// The last chunk may carry tokens that were ready earlier (its due time is its oldest
		// token's); the last token was ready before the chunk was written.
		if end := s.StartUnixNs + e2e; end < tl.last-slack || end > tl.written+slack {
			t.Errorf("%s: span ends %d ns after the last chunk was due and %d ns before it was written", id, end-tl.last, tl.written-end)
		}
		if s.EndUnixNs-s.StartUnixNs != e2e && s.EndUnixNs-s.StartUnixNs-e2e > 1000 {
			t.Errorf("%s: span lasts %d ns, e2e %d", id, s.EndUnixNs-s.StartUnixNs, e2e)
		}
		if *s.OutputTokens != tl.tokens || s.SchedulerNs != nil {
			t.Errorf("%s: %d output tokens, streamed %d; scheduler %v (vLLM V1 does not set it)", id, *s.OutputTokens, tl.tokens, s.SchedulerNs)
		}
		if q > 0 {
			queued++
		}
	}
	if queued == 0 {
		t.Error("no request queued: the test does not exercise time_in_queue")
	}
}
