package promscrape

import (
	"slices"
	"strings"
)

// Quantity is one engine-neutral piece of server evidence the analysis reads. Every engine
// tells the same story in its own words: Sources maps each quantity onto the metric families
// of vLLM (V1 names; older names are renamed on parse, see CanonicalName), SGLang, llama.cpp's
// llama-server and TGI. A quantity no family of the scrape carries is missing evidence (NaN
// in a Summary, null in summary_metrics), never 0. docs/analysis.md ("Server evidence") has
// the same table for people.
type Quantity string

// The quantities.
const (
	QRunning          Quantity = "running"           // gauge: requests in a batch (busy slots)
	QWaiting          Quantity = "waiting"           // gauge: requests queued (deferred) in the engine
	QKVUsage          Quantity = "kv_usage"          // gauge: KV-cache usage, fraction 0..1
	QPreemptions      Quantity = "preemptions"       // counter: preempted (retracted) requests
	QPromptTokens     Quantity = "prompt_tokens"     // counter: prompt tokens processed
	QGenerationTokens Quantity = "generation_tokens" // counter: tokens generated
	QRequestsFinished Quantity = "requests_finished" // counter: requests finished
	QEngineSteps      Quantity = "engine_steps"      // counter: engine steps (forward passes)
	QStepTokens       Quantity = "step_tokens"       // histogram: tokens per engine step
	QQueueTime        Quantity = "queue_time"        // histogram: seconds a request waited
	QPrefillTime      Quantity = "prefill_time"      // histogram: seconds in prefill
	QDecodeTime       Quantity = "decode_time"       // histogram: seconds in decode
	QInferenceTime    Quantity = "inference_time"    // histogram: seconds in prefill + decode
	QE2E              Quantity = "e2e"               // histogram: the server's end-to-end seconds
	QTTFT             Quantity = "ttft"              // histogram: the server's time to first token
	QITL              Quantity = "itl"               // histogram: the server's inter-token latency
)

// Quantities lists every quantity in the order the docs and the summary give them.
func Quantities() []Quantity {
	return []Quantity{QRunning, QWaiting, QKVUsage, QPreemptions, QPromptTokens, QGenerationTokens, QRequestsFinished,
		QEngineSteps, QStepTokens, QQueueTime, QPrefillTime, QDecodeTime, QInferenceTime, QE2E, QTTFT, QITL}
}

// Engine families of /metrics, named by their prefix.
const (
	FamilyVLLM     = "vllm"
	FamilySGLang   = "sglang"
	FamilyLlamaCpp = "llamacpp"
	FamilyTGI      = "tgi"
)

// SourceKind says how a quantity is read from its metric.
type SourceKind int

const (
	// FromGauge: the gauge's value at each grid scrape.
	FromGauge SourceKind = iota
	// FromCounter: the counter's increase over the window.
	FromCounter
	// FromHistogramCount: the increase of the histogram's _count (events observed).
	FromHistogramCount
	// FromHistogramSum: the increase of the histogram's _sum (e.g. TGI's generated tokens).
	FromHistogramSum
	// FromHistogramMean: Δ_sum ÷ Δ_count, the mean observation.
	FromHistogramMean
)

// Source is one engine's metric for a quantity.
type Source struct {
	Family string
	Metric string // the family name as recorded (histograms without _sum/_count)
	Kind   SourceKind
}

// series is the recorded series the source is read from.
func (s Source) series() string {
	switch s.Kind {
	case FromHistogramCount, FromHistogramMean:
		return s.Metric + "_count"
	case FromHistogramSum:
		return s.Metric + "_sum"
	}
	return s.Metric
}

// Sources lists, in order of preference, the metrics that give quantity q. Names were checked
// against each engine's source: vLLM vllm/v1/metrics/loggers.py; SGLang
// python/sglang/srt/metrics/collector.py; llama.cpp tools/server/server-context.cpp
// (/metrics); TGI's router (docs/source/reference/metrics.md). llama.cpp exports no KV usage,
// preemptions, finished requests or per-request phase times; SGLang no engine steps or phase
// split; TGI no KV usage or preemptions: those are missing evidence for that engine.
func Sources(q Quantity) []Source {
	v, sg, lc, tg := FamilyVLLM, FamilySGLang, FamilyLlamaCpp, FamilyTGI
	switch q {
	case QRunning:
		return []Source{{v, MetricRunning, FromGauge}, {sg, "sglang:num_running_reqs", FromGauge},
			{lc, "llamacpp:requests_processing", FromGauge}, {tg, "tgi_batch_current_size", FromGauge}}
	case QWaiting:
		return []Source{{v, MetricWaiting, FromGauge}, {sg, "sglang:num_queue_reqs", FromGauge},
			{lc, "llamacpp:requests_deferred", FromGauge}, {tg, "tgi_queue_size", FromGauge}}
	case QKVUsage:
		return []Source{{v, MetricKVCacheUsage, FromGauge}, {sg, "sglang:token_usage", FromGauge}}
	case QPreemptions:
		return []Source{{v, MetricPreemptions, FromCounter}, {sg, "sglang:num_retracted_requests_total", FromCounter}}
	case QPromptTokens:
		return []Source{{v, MetricPromptTokens, FromCounter}, {sg, "sglang:prompt_tokens_total", FromCounter},
			{lc, "llamacpp:prompt_tokens_total", FromCounter}, {tg, "tgi_request_input_length", FromHistogramSum}}
	case QGenerationTokens:
		return []Source{{v, MetricGenerationTokens, FromCounter}, {sg, "sglang:generation_tokens_total", FromCounter},
			{lc, "llamacpp:tokens_predicted_total", FromCounter}, {tg, "tgi_request_generated_tokens", FromHistogramSum}}
	case QRequestsFinished:
		return []Source{{v, MetricRequestSuccess, FromCounter}, {sg, "sglang:num_requests_total", FromCounter},
			{tg, "tgi_request_success", FromCounter}}
	case QEngineSteps:
		return []Source{{v, MetricIterationTokens, FromHistogramCount}, {lc, "llamacpp:n_decode_total", FromCounter},
			{tg, "tgi_batch_inference_count", FromCounter}}
	case QStepTokens:
		return []Source{{v, MetricIterationTokens, FromHistogramMean}}
	}
	return histogramSources(q)
}

func histogramSources(q Quantity) []Source {
	v, sg, tg := FamilyVLLM, FamilySGLang, FamilyTGI
	switch q {
	case QQueueTime:
		return []Source{{v, MetricQueueTime, FromHistogramMean}, {sg, "sglang:queue_time_seconds", FromHistogramMean},
			{tg, "tgi_request_queue_duration", FromHistogramMean}}
	case QPrefillTime:
		return []Source{{v, MetricPrefillTime, FromHistogramMean}}
	case QDecodeTime:
		return []Source{{v, MetricDecodeTime, FromHistogramMean}}
	case QInferenceTime:
		return []Source{{v, MetricInferenceTime, FromHistogramMean}, {tg, "tgi_request_inference_duration", FromHistogramMean}}
	case QE2E:
		return []Source{{v, MetricE2ELatency, FromHistogramMean}, {sg, "sglang:e2e_request_latency_seconds", FromHistogramMean},
			{tg, "tgi_request_duration", FromHistogramMean}}
	case QTTFT:
		return []Source{{v, MetricTTFT, FromHistogramMean}, {sg, "sglang:time_to_first_token_seconds", FromHistogramMean}}
	case QITL:
		return []Source{{v, MetricITL, FromHistogramMean}, {sg, "sglang:inter_token_latency_seconds", FromHistogramMean},
			{tg, "tgi_request_mean_time_per_token_duration", FromHistogramMean}}
	}
	return nil
}

// GaugeQuantity tells which gauge quantity a recorded metric name feeds, if any: how the report
// picks the running, waiting and KV-usage series of any engine.
func GaugeQuantity(name string) (Quantity, bool) {
	for _, q := range []Quantity{QRunning, QWaiting, QKVUsage} {
		for _, s := range Sources(q) {
			if s.Metric == name {
				return q, true
			}
		}
	}
	return "", false
}

// FamilyOf names the engine family of a recorded metric name by its prefix, "" for others.
func FamilyOf(name string) string {
	for _, f := range []string{FamilyVLLM, FamilySGLang, FamilyLlamaCpp} {
		if strings.HasPrefix(name, f+":") {
			return f
		}
	}
	if strings.HasPrefix(name, "tgi_") {
		return FamilyTGI
	}
	return ""
}

// Families lists the engine families whose series the window holds, sorted.
func (w *Window) Families() []string {
	var out []string
	for name := range w.series {
		if f := FamilyOf(name); f != "" && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return out
}

// Source returns the first source of q whose series the window holds.
func (w *Window) Source(q Quantity) (Source, bool) {
	for _, s := range Sources(q) {
		if len(w.series[s.series()]) > 0 {
			return s, true
		}
	}
	return Source{}, false
}
