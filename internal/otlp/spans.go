package otlp

import (
	"math"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/llmscale/llmscale/internal/results"
)

// Attribute names of vLLM's per-request span (vllm/tracing.py, SpanAttributes). Latencies are
// seconds (doubles); token counts integers.
const (
	AttrRequestID        = "gen_ai.request.id"
	AttrQueue            = "gen_ai.latency.time_in_queue"
	AttrScheduler        = "gen_ai.latency.time_in_scheduler"
	AttrPrefill          = "gen_ai.latency.time_in_model_prefill"
	AttrDecode           = "gen_ai.latency.time_in_model_decode"
	AttrInference        = "gen_ai.latency.time_in_model_inference"
	AttrTTFT             = "gen_ai.latency.time_to_first_token"
	AttrE2E              = "gen_ai.latency.e2e"
	AttrPromptTokens     = "gen_ai.usage.prompt_tokens"
	AttrCompletionTokens = "gen_ai.usage.completion_tokens"
)

// SpanName is the name vLLM gives its per-request span.
const SpanName = "llm_request"

// Spans turns every span of td that names a request (gen_ai.request.id) into a row; the rest
// (spans of other instrumentation) are counted in other.
func Spans(td ptrace.Traces) (rows []results.ServerSpan, other int) {
	rss := td.ResourceSpans()
	for i := range rss.Len() {
		sss := rss.At(i).ScopeSpans()
		for j := range sss.Len() {
			spans := sss.At(j).Spans()
			for k := range spans.Len() {
				row, ok := spanRow(spans.At(k))
				if !ok {
					other++
					continue
				}
				rows = append(rows, row)
			}
		}
	}
	return rows, other
}

func spanRow(s ptrace.Span) (results.ServerSpan, bool) {
	a := s.Attributes()
	id, ok := a.Get(AttrRequestID)
	if !ok || id.AsString() == "" {
		return results.ServerSpan{}, false
	}
	return results.ServerSpan{
		RequestID: id.AsString(), TraceID: traceID(s.TraceID()), SpanID: spanID(s.SpanID()), SpanName: s.Name(),
		StartUnixNs: int64(s.StartTimestamp()), EndUnixNs: int64(s.EndTimestamp()),
		QueueNs: seconds(a, AttrQueue), SchedulerNs: seconds(a, AttrScheduler),
		PrefillNs: seconds(a, AttrPrefill), DecodeNs: seconds(a, AttrDecode), InferenceNs: seconds(a, AttrInference),
		ServerTTFT: seconds(a, AttrTTFT), ServerE2E: seconds(a, AttrE2E),
		PromptTokens: count(a, AttrPromptTokens), OutputTokens: count(a, AttrCompletionTokens),
	}, true
}

func traceID(id pcommon.TraceID) string {
	if id.IsEmpty() {
		return ""
	}
	return id.String()
}

func spanID(id pcommon.SpanID) string {
	if id.IsEmpty() {
		return ""
	}
	return id.String()
}

// seconds reads a latency attribute (seconds, double or int) as nanoseconds; absent, not a
// number or out of range is null.
func seconds(a pcommon.Map, key string) *int64 {
	v, ok := number(a, key)
	if !ok || math.Abs(v) > 1e9 { // over 31 years: not a latency
		return nil
	}
	ns := int64(math.Round(v * 1e9))
	return &ns
}

// count reads a token-count attribute; a fractional or negative value is null.
func count(a pcommon.Map, key string) *int64 {
	v, ok := number(a, key)
	if !ok || v < 0 || v != math.Trunc(v) || v > math.MaxInt32 {
		return nil
	}
	n := int64(v)
	return &n
}

func number(a pcommon.Map, key string) (float64, bool) {
	v, ok := a.Get(key)
	if !ok {
		return 0, false
	}
	var f float64
	switch v.Type() {
	case pcommon.ValueTypeDouble:
		f = v.Double()
	case pcommon.ValueTypeInt:
		f = float64(v.Int())
	default:
		return 0, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}
