package results

import "time"

// ServerSpansFile is the per-experiment file of the server's own request phases, from the
// OpenTelemetry spans it exported (telemetry.traces).
const ServerSpansFile = "server_spans.parquet"

// ServerSpan is one row of server_spans.parquet: the phases the server reported for one request
// (vLLM's llm_request span) and, when the request is one the load generator sent, the client's
// timing of it. Durations are nanoseconds; a phase the span did not carry is null, never 0.
// docs/results.md documents every column.
type ServerSpan struct {
	ExperimentID string `parquet:"exp_id"`
	RequestID    string `parquet:"request_id"` // the span's gen_ai.request.id
	TraceID      string `parquet:"trace_id"`
	SpanID       string `parquet:"span_id"`
	SpanName     string `parquet:"span_name"`
	StartUnixNs  int64  `parquet:"start_unix_ns"` // the span's start (vLLM: the request's arrival)
	EndUnixNs    int64  `parquet:"end_unix_ns"`

	QueueNs     *int64 `parquet:"queue_ns,optional"`       // gen_ai.latency.time_in_queue
	SchedulerNs *int64 `parquet:"scheduler_ns,optional"`   // gen_ai.latency.time_in_scheduler
	PrefillNs   *int64 `parquet:"prefill_ns,optional"`     // gen_ai.latency.time_in_model_prefill
	DecodeNs    *int64 `parquet:"decode_ns,optional"`      // gen_ai.latency.time_in_model_decode
	InferenceNs *int64 `parquet:"inference_ns,optional"`   // gen_ai.latency.time_in_model_inference
	ServerTTFT  *int64 `parquet:"server_ttft_ns,optional"` // gen_ai.latency.time_to_first_token
	ServerE2E   *int64 `parquet:"server_e2e_ns,optional"`  // gen_ai.latency.e2e

	PromptTokens *int64 `parquet:"prompt_tokens,optional"` // gen_ai.usage.prompt_tokens
	OutputTokens *int64 `parquet:"output_tokens,optional"` // gen_ai.usage.completion_tokens

	// Joined: the span's request id matched a request of requests.parquet (by its response_id).
	Joined     bool   `parquet:"joined"`
	ResponseID string `parquet:"response_id"` // requests.parquet's response_id; "" when not joined
	WorkerID   int32  `parquet:"worker_id"`   // with seq, the request's key in requests.parquet
	Seq        int64  `parquet:"seq"`
	Phase      string `parquet:"phase"` // the request's phase: warmup | measure | cooldown

	ClientTTFTNs   *int64 `parquet:"client_ttft_ns,optional"`   // requests.parquet ttft_ns
	ClientE2ENs    *int64 `parquet:"client_e2e_ns,optional"`    // requests.parquet e2e_ns
	TTFTOverheadNs *int64 `parquet:"ttft_overhead_ns,optional"` // client TTFT − server TTFT
	E2EOverheadNs  *int64 `parquet:"e2e_overhead_ns,optional"`  // client E2E − server E2E
}

// Dur returns a nullable column as a duration and whether it is present.
func Dur(p *int64) (time.Duration, bool) {
	if p == nil {
		return 0, false
	}
	return time.Duration(*p), true
}

// WriteServerSpans writes server_spans.parquet atomically.
func WriteServerSpans(path string, rows []ServerSpan) error { return WriteParquet(path, rows) }

// ReadServerSpans reads one server_spans.parquet.
func ReadServerSpans(path string) ([]ServerSpan, error) { return ReadParquet[ServerSpan](path) }
