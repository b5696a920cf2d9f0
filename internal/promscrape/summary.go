package promscrape

import (
	"math"

	"github.com/llmscale/llmscale/internal/results"
)

// Summary is what the aggregation takes from one experiment's server metrics. Token and
// request counts are increases over the window (before → after snapshot) summed across DP
// ranks; times are means per request in seconds from histogram deltas (NaN when no request
// finished in the window); gauges are over the grid scrapes.
type Summary struct {
	PromptTokens     float64            // Δ vllm:prompt_tokens_total
	GenerationTokens float64            // Δ vllm:generation_tokens_total
	Preemptions      float64            // Δ vllm:num_preemptions_total
	RequestsFinished float64            // Δ vllm:request_success_total, all reasons
	RequestsByReason map[string]float64 // Δ vllm:request_success_total by finished_reason
	PrefixCacheHits  float64            // Δ vllm:prefix_cache_hits_total (tokens)
	PrefixQueries    float64            // Δ vllm:prefix_cache_queries_total (tokens)

	MeanQueueS       float64 // vllm:request_queue_time_seconds Δsum/Δcount
	MeanPrefillS     float64 // vllm:request_prefill_time_seconds
	MeanDecodeS      float64 // vllm:request_decode_time_seconds
	MeanInferenceS   float64 // vllm:request_inference_time_seconds
	MeanE2ES         float64 // vllm:e2e_request_latency_seconds
	MeanTTFTS        float64 // vllm:time_to_first_token_seconds
	MeanITLS         float64 // vllm:inter_token_latency_seconds (per engine output)
	MeanIterTokens   float64 // vllm:iteration_tokens_total: tokens per engine step
	EngineIterations float64 // Δ vllm:iteration_tokens_total_count: engine steps

	Running      GaugeStats // vllm:num_requests_running summed across engines per scrape
	Waiting      GaugeStats // vllm:num_requests_waiting summed across engines per scrape
	KVCacheUsage GaugeStats // vllm:kv_cache_usage_perc averaged across engines per scrape
	// KVCacheUsageMax is the highest single engine's usage in any scrape: one full rank can
	// preempt while the average looks fine.
	KVCacheUsageMax float64

	Config Config

	Restarts      int  // scrapes at which counters went down: server restarts in the window
	Exact         bool // both snapshots succeeded
	Scrapes       int  // grid scrapes, failed ones included
	FailedScrapes int
}

// Summarize computes the Summary of one experiment's rows.
func Summarize(rows []results.ServerMetric) Summary {
	w := NewWindow(rows)
	s := Summary{Exact: w.beforeOK && w.afterOK, Scrapes: w.grid, FailedScrapes: w.gridFailed}
	for _, c := range []struct {
		name string
		dst  *float64
	}{
		{MetricPromptTokens, &s.PromptTokens},
		{MetricGenerationTokens, &s.GenerationTokens},
		{MetricPreemptions, &s.Preemptions},
		{MetricRequestSuccess, &s.RequestsFinished},
		{MetricPrefixHits, &s.PrefixCacheHits},
		{MetricPrefixQueries, &s.PrefixQueries},
	} {
		*c.dst = w.Increase(c.name, nil).Value
	}
	s.RequestsByReason = w.IncreaseBy(MetricRequestSuccess, "finished_reason")
	for _, h := range []struct {
		name string
		dst  *float64
	}{
		{MetricQueueTime, &s.MeanQueueS},
		{MetricPrefillTime, &s.MeanPrefillS},
		{MetricDecodeTime, &s.MeanDecodeS},
		{MetricInferenceTime, &s.MeanInferenceS},
		{MetricE2ELatency, &s.MeanE2ES},
		{MetricTTFT, &s.MeanTTFTS},
		{MetricITL, &s.MeanITLS},
		{MetricIterationTokens, &s.MeanIterTokens},
	} {
		*h.dst, _, _ = w.HistogramMean(h.name, nil)
	}
	s.EngineIterations = w.Increase(MetricIterationTokens+"_count", nil).Value
	s.Running = w.Gauge(MetricRunning, nil, SumAcross)
	s.Waiting = w.Gauge(MetricWaiting, nil, SumAcross)
	s.KVCacheUsage = w.Gauge(MetricKVCacheUsage, nil, MeanAcross)
	s.KVCacheUsageMax = w.maxSeries(MetricKVCacheUsage)
	s.Config = w.Config()
	s.Restarts = w.Restarts()
	return s
}

// maxSeries is the largest value of any one series of name in the grid scrapes.
func (w *Window) maxSeries(name string) float64 {
	m := math.NaN()
	for _, s := range w.series[name] {
		for _, p := range s.points {
			if p.at.phase == 1 && !math.IsNaN(p.value) && (math.IsNaN(m) || p.value > m) {
				m = p.value
			}
		}
	}
	return m
}
