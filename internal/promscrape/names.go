package promscrape

// Names of the vLLM series the analysis reads, as recorded (after renaming). Counters carry
// their _total suffix; histogram names are the family name (add _sum, _count, _bucket).
const (
	MetricRunning          = "vllm:num_requests_running"
	MetricWaiting          = "vllm:num_requests_waiting"
	MetricKVCacheUsage     = "vllm:kv_cache_usage_perc"
	MetricPromptTokens     = "vllm:prompt_tokens_total"
	MetricGenerationTokens = "vllm:generation_tokens_total"
	MetricPreemptions      = "vllm:num_preemptions_total"
	MetricRequestSuccess   = "vllm:request_success_total"
	MetricPrefixQueries    = "vllm:prefix_cache_queries_total"
	MetricPrefixHits       = "vllm:prefix_cache_hits_total"
	MetricQueueTime        = "vllm:request_queue_time_seconds"
	MetricPrefillTime      = "vllm:request_prefill_time_seconds"
	MetricDecodeTime       = "vllm:request_decode_time_seconds"
	MetricInferenceTime    = "vllm:request_inference_time_seconds"
	MetricE2ELatency       = "vllm:e2e_request_latency_seconds"
	MetricTTFT             = "vllm:time_to_first_token_seconds"
	MetricITL              = "vllm:inter_token_latency_seconds"
	MetricIterationTokens  = "vllm:iteration_tokens_total"
	MetricCacheConfigInfo  = "vllm:cache_config_info"
	// MetricSchedulerConfigInfo is exported by llmscale's simulator (not by vLLM): an info
	// gauge whose labels max_num_seqs and max_num_batched_tokens give the batch caps in force.
	MetricSchedulerConfigInfo = "vllm:scheduler_config_info"
)

// Labels vLLM puts on every engine series.
const (
	LabelEngine    = "engine"     // the data-parallel rank, "0" without DP
	LabelModelName = "model_name" // the served model name
)

// Series llmscale adds to every scrape (never exposed by a server).
const (
	MetricScrapeUp       = "llmscale:scrape_up"               // 1 if the scrape succeeded, else 0
	MetricScrapeDuration = "llmscale:scrape_duration_seconds" // how long the scrape took
	MetricScrapeSamples  = "llmscale:scrape_samples"          // samples the scrape recorded
)

// CanonicalName returns the name llmscale records for a metric family that a server exposes as
// family. vLLM renamed some metrics between versions; the old name maps to the new one so that
// campaigns over several versions read the same series. Names are matched exactly, whole
// family names only. A family without a newer name is returned as it is. Parse applies the
// rename only when the scrape does not also expose the new name (vLLM 0.9–0.10 exposed both).
func CanonicalName(family string) string {
	switch family {
	case "vllm:gpu_cache_usage_perc":
		return MetricKVCacheUsage
	case "vllm:time_per_output_token_seconds":
		return MetricITL
	case "vllm:gpu_prefix_cache_queries_total":
		return MetricPrefixQueries
	case "vllm:gpu_prefix_cache_hits_total":
		return MetricPrefixHits
	}
	return family
}
