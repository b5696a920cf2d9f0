package otlp

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/llmscale/llmscale/internal/results"
)

func p(v int64) *int64 { return &v }

func TestSpansFromFixture(t *testing.T) {
	t.Parallel()
	er, err := decode(contentProto, fixture(t, "vllm_export.pb"))
	if err != nil {
		t.Fatal(err)
	}
	rows, other := Spans(er.Traces())
	if other != 1 || len(rows) != 3 {
		t.Fatalf("%d rows, %d other; want 3 and 1", len(rows), other)
	}
	want := results.ServerSpan{RequestID: "chatcmpl-3f2a9c1e7b6d4e0f8a1b2c3d4e5f6a7b",
		TraceID: "5b8efff798038103d269b633813fc60c", SpanID: "eee19b7ec3c1b174", SpanName: "llm_request",
		StartUnixNs: 1765000000000000000, EndUnixNs: 1765000001540200000,
		QueueNs: p(12300000), SchedulerNs: p(900000), PrefillNs: p(71200000), DecodeNs: p(1449000000),
		InferenceNs: p(1520200000), ServerTTFT: p(87100000), ServerE2E: p(1540200000),
		PromptTokens: p(512), OutputTokens: p(128)}
	if d := cmp.Diff(want, rows[0]); d != "" {
		t.Errorf("first span (-want +got):\n%s", d)
	}
	if rows[1].SchedulerNs != nil {
		t.Errorf("a span without time_in_scheduler has scheduler_ns %d, want null", *rows[1].SchedulerNs)
	}
}
