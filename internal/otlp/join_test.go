package otlp

import (
	"testing"

	"github.com/llmscale/llmscale/internal/results"
)

func TestJoin(t *testing.T) {
	t.Parallel()
	reqs := []results.Request{
		{Seq: 0, ResponseID: "chatcmpl-a", TTFTNs: 100, E2ENs: 1000, Phase: "measure"},
		{Seq: 1, ResponseID: "cmpl-b", TTFTNs: 200, E2ENs: 2000, Phase: "measure"},
		{Seq: 2, ResponseID: "cmpl-c", TTFTNs: 300, E2ENs: 3000, Phase: "warmup"},
		{Seq: 3, ResponseID: "cmpl-d", ErrorKind: results.ErrorStall},
		{Seq: 4, ResponseID: "", ErrorKind: results.ErrorConnect},
	}
	spans := []results.ServerSpan{
		{RequestID: "chatcmpl-a", ServerTTFT: p(60), ServerE2E: p(900)}, // chat: the same id
		{RequestID: "cmpl-b-0", ServerTTFT: p(150)},                     // completions: choice suffix
		{RequestID: "cmpl-c-0-1a2b3c4d"},                                // an internal suffix too
		{RequestID: "chatcmpl-a"},                                       // a second span: unknown
		{RequestID: "cmpl-zzz"},                                         // another client
		{RequestID: "cmpl-d"},                                           // a failed request: joined, no client timing
	}
	out, st := Join("e1", spans, reqs)
	want := JoinStats{Spans: 6, Joined: 4, Unknown: 2, Completed: 3, CompletedJoined: 3}
	if st != want {
		t.Fatalf("stats %+v, want %+v", st, want)
	}
	if st.JoinedRatio() != 1 {
		t.Errorf("joined ratio %v, want 1", st.JoinedRatio())
	}
	a := out[0]
	if !a.Joined || a.ExperimentID != "e1" || *a.TTFTOverheadNs != 40 || *a.E2EOverheadNs != 100 || *a.ClientE2ENs != 1000 {
		t.Errorf("chat span joined wrong: %+v", a)
	}
	b := out[1]
	if !b.Joined || b.Seq != 1 || *b.TTFTOverheadNs != 50 || b.E2EOverheadNs != nil || *b.ClientE2ENs != 2000 {
		t.Errorf("completions span joined wrong: %+v", b)
	}
	if !out[2].Joined || out[2].Phase != "warmup" || out[3].Joined || out[4].Joined {
		t.Errorf("suffix or unknown spans joined wrong: %+v %+v %+v", out[2], out[3], out[4])
	}
	if d := out[5]; !d.Joined || d.ClientTTFTNs != nil || d.TTFTOverheadNs != nil {
		t.Errorf("failed request's span: %+v", d)
	}
	if !Covers(spans, reqs) || Covers(spans[1:3], reqs) {
		t.Error("Covers: want true with every completed request's span, false without chatcmpl-a")
	}
}

func TestJoinNoCompleted(t *testing.T) {
	t.Parallel()
	_, st := Join("e", nil, []results.Request{{ErrorKind: results.ErrorHTTP}})
	if st.JoinedRatio() != 0 || st.Completed != 0 {
		t.Errorf("stats %+v", st)
	}
}
