// Package aggregate turns the raw files of each experiment (experiment.json, requests.parquet,
// server_metrics.parquet, gpu.parquet) into one row of results/agg/summary_metrics.parquet:
// its factors, what the clients measured over the measured window (vLLM's definitions and
// percentile method, through stats.SummarizeRecords), what the server's /metrics said
// (through promscrape.Summarize) and what the GPUs did. It reads only the raw files, so it can
// be re-run at any time. docs/results.md ("summary_metrics") documents every column.
package aggregate

// Row is one row of summary_metrics.parquet (and .csv): one experiment (a repeat is an
// experiment of its own). Column names carry their unit. Optional numbers are pointers: nil is
// a null in Parquet and an empty cell in CSV (no SLO, no server metrics, no GPU telemetry, no
// request to compute it from). Integer factors that do not apply (users in rate mode) are 0.
type Row struct {
	ExpID          string `parquet:"exp_id"`
	Campaign       string `parquet:"campaign"`
	Status         string `parquet:"status"`
	FailureReason  string `parquet:"failure_reason"`
	AggregateError string `parquet:"aggregate_error"`
	Repeat         int64  `parquet:"repeat"`
	ServerID       string `parquet:"server_id"`

	Engine        string  `parquet:"engine"`
	Model         string  `parquet:"model"`
	ServerVersion string  `parquet:"server_version"`
	GPUs          int64   `parquet:"gpus"`
	TP            int64   `parquet:"tp"`
	DP            int64   `parquet:"dp"`
	PP            int64   `parquet:"pp"`
	Mode          string  `parquet:"mode"`
	Users         int64   `parquet:"users"`
	Concurrency   int64   `parquet:"concurrency"`
	Rate          float64 `parquet:"rate"`
	LoadLevel     float64 `parquet:"load_level"`
	Prompts       string  `parquet:"prompts"`
	MaxTokens     int64   `parquet:"max_tokens"`
	BatchSize     int64   `parquet:"batch_size"`
	MBT           int64   `parquet:"mbt"`
	ExtraFactors  string  `parquet:"extra_factors"`
	API           string  `parquet:"api"`
	Workers       int64   `parquet:"workers"`
	GPUNames      string  `parquet:"gpu_names"`
	Interconnect  string  `parquet:"interconnect"`
	SimInfo       string  `parquet:"sim_info"`

	WarmupS     float64 `parquet:"warmup_s"`
	DurationS   float64 `parquet:"duration_s"`
	CooldownS   float64 `parquet:"cooldown_s"`
	MeasureFrom string  `parquet:"measure_from"`
	MeasureTo   string  `parquet:"measure_to"`

	RequestFiles       int64  `parquet:"request_files"`
	RequestsTotal      int64  `parquet:"requests_total"`
	Sent               int64  `parquet:"sent"`
	NotSent            int64  `parquet:"not_sent"`
	Completed          int64  `parquet:"completed"`
	Failed             int64  `parquet:"failed"`
	Failures           string `parquet:"failures"`
	FailedConnect      int64  `parquet:"failed_connect"`
	FailedTLS          int64  `parquet:"failed_tls"`
	FailedHTTP         int64  `parquet:"failed_http"`
	FailedTimeout      int64  `parquet:"failed_timeout"`
	FailedStall        int64  `parquet:"failed_stall"`
	FailedStreamBroken int64  `parquet:"failed_stream_broken"`
	FailedNoDone       int64  `parquet:"failed_no_done"`
	FailedStreamError  int64  `parquet:"failed_stream_error"`
	FailedBadStream    int64  `parquet:"failed_bad_stream"`
	FailedNoOutput     int64  `parquet:"failed_no_output"`
	FailedCancelled    int64  `parquet:"failed_cancelled"`
	FailedOther        int64  `parquet:"failed_other"`
	PromptTokens       int64  `parquet:"prompt_tokens"`
	OutputTokens       int64  `parquet:"output_tokens"`

	RequestThroughput    *float64 `parquet:"request_throughput_rps,optional"`
	OutputThroughput     *float64 `parquet:"output_throughput_tps,optional"`
	TotalThroughput      *float64 `parquet:"total_throughput_tps,optional"`
	OutputPerGPU         *float64 `parquet:"output_throughput_per_gpu_tps,optional"`
	TotalPerGPU          *float64 `parquet:"total_throughput_per_gpu_tps,optional"`
	TokensPerUser        *float64 `parquet:"tokens_per_user_tps,optional"`
	OutputPerInflight    *float64 `parquet:"output_throughput_per_inflight_tps,optional"`
	Goodput              *float64 `parquet:"goodput_rps,optional"`
	GoodputFraction      *float64 `parquet:"goodput_fraction,optional"`
	SLOTTFTms            *float64 `parquet:"slo_ttft_ms,optional"`
	SLOTPOTms            *float64 `parquet:"slo_tpot_ms,optional"`
	SLOE2Ems             *float64 `parquet:"slo_e2e_ms,optional"`
	RequestedRate        *float64 `parquet:"requested_rate_rps,optional"`
	ScheduledRate        *float64 `parquet:"scheduled_rate_rps,optional"`
	AchievedRate         *float64 `parquet:"achieved_rate_rps,optional"`
	ClientInflightMean   *float64 `parquet:"client_inflight_mean,optional"`
	ClientCPUCores       *float64 `parquet:"client_cpu_cores,optional"`
	ClientCores          *float64 `parquet:"client_cores,optional"`
	ClientCPUMaxFraction *float64 `parquet:"client_cpu_max_fraction,optional"`
	HostCPUUtil          *float64 `parquet:"host_cpu_util,optional"`
	HostSteal            *float64 `parquet:"host_steal,optional"`
	ClientFailures       *float64 `parquet:"client_failures,optional"`

	TTFTMean       *float64 `parquet:"ttft_ms_mean,optional"`
	TTFTP50        *float64 `parquet:"ttft_ms_p50,optional"`
	TTFTP90        *float64 `parquet:"ttft_ms_p90,optional"`
	TTFTP95        *float64 `parquet:"ttft_ms_p95,optional"`
	TTFTP99        *float64 `parquet:"ttft_ms_p99,optional"`
	TTFTMax        *float64 `parquet:"ttft_ms_max,optional"`
	TPOTMean       *float64 `parquet:"tpot_ms_mean,optional"`
	TPOTP50        *float64 `parquet:"tpot_ms_p50,optional"`
	TPOTP90        *float64 `parquet:"tpot_ms_p90,optional"`
	TPOTP95        *float64 `parquet:"tpot_ms_p95,optional"`
	TPOTP99        *float64 `parquet:"tpot_ms_p99,optional"`
	TPOTMax        *float64 `parquet:"tpot_ms_max,optional"`
	ITLMean        *float64 `parquet:"itl_ms_mean,optional"`
	ITLP50         *float64 `parquet:"itl_ms_p50,optional"`
	ITLP90         *float64 `parquet:"itl_ms_p90,optional"`
	ITLP95         *float64 `parquet:"itl_ms_p95,optional"`
	ITLP99         *float64 `parquet:"itl_ms_p99,optional"`
	ITLMax         *float64 `parquet:"itl_ms_max,optional"`
	TokenITLMean   *float64 `parquet:"token_itl_ms_mean,optional"`
	TokenITLP50    *float64 `parquet:"token_itl_ms_p50,optional"`
	TokenITLP90    *float64 `parquet:"token_itl_ms_p90,optional"`
	TokenITLP95    *float64 `parquet:"token_itl_ms_p95,optional"`
	TokenITLP99    *float64 `parquet:"token_itl_ms_p99,optional"`
	TokenITLMax    *float64 `parquet:"token_itl_ms_max,optional"`
	E2EMean        *float64 `parquet:"e2e_ms_mean,optional"`
	E2EP50         *float64 `parquet:"e2e_ms_p50,optional"`
	E2EP90         *float64 `parquet:"e2e_ms_p90,optional"`
	E2EP95         *float64 `parquet:"e2e_ms_p95,optional"`
	E2EP99         *float64 `parquet:"e2e_ms_p99,optional"`
	E2EMax         *float64 `parquet:"e2e_ms_max,optional"`
	E2EFromDueMean *float64 `parquet:"e2e_from_due_ms_mean,optional"`
	E2EFromDueP50  *float64 `parquet:"e2e_from_due_ms_p50,optional"`
	E2EFromDueP90  *float64 `parquet:"e2e_from_due_ms_p90,optional"`
	E2EFromDueP95  *float64 `parquet:"e2e_from_due_ms_p95,optional"`
	E2EFromDueP99  *float64 `parquet:"e2e_from_due_ms_p99,optional"`
	E2EFromDueMax  *float64 `parquet:"e2e_from_due_ms_max,optional"`
	SendLagMean    *float64 `parquet:"send_lag_ms_mean,optional"`
	SendLagP50     *float64 `parquet:"send_lag_ms_p50,optional"`
	SendLagP90     *float64 `parquet:"send_lag_ms_p90,optional"`
	SendLagP95     *float64 `parquet:"send_lag_ms_p95,optional"`
	SendLagP99     *float64 `parquet:"send_lag_ms_p99,optional"`
	SendLagMax     *float64 `parquet:"send_lag_ms_max,optional"`

	ServerMetricsFiles    int64    `parquet:"server_metrics_files"`
	ServerMetricsEngine   string   `parquet:"server_metrics_engine"`
	ServerEvidenceMissing string   `parquet:"server_evidence_missing"`
	Scrapes               int64    `parquet:"scrapes"`
	FailedScrapes         int64    `parquet:"failed_scrapes"`
	MetricsExact          bool     `parquet:"metrics_exact"`
	ServerRestarts        int64    `parquet:"server_restarts"`
	RunningMean           *float64 `parquet:"running_mean,optional"`
	RunningMax            *float64 `parquet:"running_max,optional"`
	WaitingMean           *float64 `parquet:"waiting_mean,optional"`
	WaitingMax            *float64 `parquet:"waiting_max,optional"`
	KVCacheUsageMean      *float64 `parquet:"kv_cache_usage_mean,optional"`
	KVCacheUsageMax       *float64 `parquet:"kv_cache_usage_max,optional"`
	KVCacheUsageMaxEngine *float64 `parquet:"kv_cache_usage_max_engine,optional"`
	Preemptions           *float64 `parquet:"preemptions,optional"`
	PreemptionsPerRequest *float64 `parquet:"preemptions_per_request,optional"`
	PromptTokensDelta     *float64 `parquet:"prompt_tokens_delta,optional"`
	GenerationTokensDelta *float64 `parquet:"generation_tokens_delta,optional"`
	RequestsFinishedDelta *float64 `parquet:"requests_finished_delta,optional"`
	QueueSMean            *float64 `parquet:"queue_s_mean,optional"`
	PrefillSMean          *float64 `parquet:"prefill_s_mean,optional"`
	DecodeSMean           *float64 `parquet:"decode_s_mean,optional"`
	InferenceSMean        *float64 `parquet:"inference_s_mean,optional"`
	ServerE2ESMean        *float64 `parquet:"server_e2e_s_mean,optional"`
	ServerTTFTSMean       *float64 `parquet:"server_ttft_s_mean,optional"`
	ServerITLSMean        *float64 `parquet:"server_itl_s_mean,optional"`
	IterationTokensMean   *float64 `parquet:"iteration_tokens_mean,optional"`
	EngineSteps           *float64 `parquet:"engine_steps,optional"`
	Engines               int64    `parquet:"engines"`
	MaxNumSeqs            int64    `parquet:"max_num_seqs_effective"`
	MaxNumBatchedTokens   int64    `parquet:"max_num_batched_tokens_effective"`
	BatchCapTotal         int64    `parquet:"batch_cap_total"`
	BatchCapSource        string   `parquet:"batch_cap_source"`
	BatchCapVerified      bool     `parquet:"batch_cap_verified"`
	NumGPUBlocksTotal     int64    `parquet:"num_gpu_blocks_total"`
	KVCacheTokensTotal    int64    `parquet:"kv_cache_tokens_total"`
	RunningCapFraction    *float64 `parquet:"running_cap_fraction,optional"`
	EngineInflightMean    *float64 `parquet:"engine_inflight_mean,optional"`
	OutsideEngineInflight *float64 `parquet:"outside_engine_inflight,optional"`
	IterationBudgetFrac   *float64 `parquet:"iteration_budget_fraction,optional"`
	QueueShareOfTTFT      *float64 `parquet:"queue_share_of_ttft,optional"`
	FrontendShareOfE2E    *float64 `parquet:"frontend_share_of_e2e,optional"`

	GPUTelemetry        string   `parquet:"gpu_telemetry"`
	GPUCount            int64    `parquet:"gpu_count"`
	GPUSamples          int64    `parquet:"gpu_samples"`
	GPUUtilMean         *float64 `parquet:"gpu_util_pct_mean,optional"`
	GPUUtilP95          *float64 `parquet:"gpu_util_pct_p95,optional"`
	GPUUtilMinGPU       *float64 `parquet:"gpu_util_pct_min_gpu,optional"`
	SMActiveMean        *float64 `parquet:"sm_active_pct_mean,optional"`
	SMActiveP95         *float64 `parquet:"sm_active_pct_p95,optional"`
	DRAMActiveMean      *float64 `parquet:"dram_active_pct_mean,optional"`
	MemBWUtilMean       *float64 `parquet:"mem_bw_util_pct_mean,optional"`
	MemUsedMiBMean      *float64 `parquet:"mem_used_mib_mean,optional"`
	MemUsedMiBTotalMean *float64 `parquet:"mem_used_mib_total_mean,optional"`
	PowerWMean          *float64 `parquet:"power_w_mean,optional"`
	PowerWTotalMean     *float64 `parquet:"power_w_total_mean,optional"`

	Saturated       bool   `parquet:"saturated"`
	SaturatedReason string `parquet:"saturated_reason"`

	// A sweep's points (mode sweep) share SweepID; SweepIndex numbers its rate points (1 is
	// the lowest rate), the place two campaigns' rate points share whatever rates they
	// measured; SweepKnee marks the point the sweep found as its knee, and SweepKneeReason (on
	// every point) says why it is there.
	SweepID         string `parquet:"sweep_id"`
	SweepStage      string `parquet:"sweep_stage"`
	SweepIndex      int64  `parquet:"sweep_index"`
	SweepKnee       bool   `parquet:"sweep_knee"`
	SweepKneeReason string `parquet:"sweep_knee_reason"`

	// Per-request server phases from server_spans.parquet (telemetry.traces): completed
	// requests of the measured window that have a span. Null without spans.
	ServerSpans         int64    `parquet:"server_spans"`
	SpansJoinedFraction *float64 `parquet:"spans_joined_fraction,optional"`
	SpanQueueP50        *float64 `parquet:"span_queue_ms_p50,optional"`
	SpanQueueP90        *float64 `parquet:"span_queue_ms_p90,optional"`
	SpanQueueP99        *float64 `parquet:"span_queue_ms_p99,optional"`
	SpanSchedulerP50    *float64 `parquet:"span_scheduler_ms_p50,optional"`
	SpanSchedulerP90    *float64 `parquet:"span_scheduler_ms_p90,optional"`
	SpanSchedulerP99    *float64 `parquet:"span_scheduler_ms_p99,optional"`
	SpanPrefillP50      *float64 `parquet:"span_prefill_ms_p50,optional"`
	SpanPrefillP90      *float64 `parquet:"span_prefill_ms_p90,optional"`
	SpanPrefillP99      *float64 `parquet:"span_prefill_ms_p99,optional"`
	SpanDecodeP50       *float64 `parquet:"span_decode_ms_p50,optional"`
	SpanDecodeP90       *float64 `parquet:"span_decode_ms_p90,optional"`
	SpanDecodeP99       *float64 `parquet:"span_decode_ms_p99,optional"`
	SpanTTFTP50         *float64 `parquet:"span_ttft_ms_p50,optional"`
	SpanTTFTP90         *float64 `parquet:"span_ttft_ms_p90,optional"`
	SpanTTFTP99         *float64 `parquet:"span_ttft_ms_p99,optional"`
	SpanE2EP50          *float64 `parquet:"span_e2e_ms_p50,optional"`
	SpanE2EP90          *float64 `parquet:"span_e2e_ms_p90,optional"`
	SpanE2EP99          *float64 `parquet:"span_e2e_ms_p99,optional"`
	TTFTOverheadP50     *float64 `parquet:"ttft_overhead_ms_p50,optional"`
	TTFTOverheadP90     *float64 `parquet:"ttft_overhead_ms_p90,optional"`
	TTFTOverheadP99     *float64 `parquet:"ttft_overhead_ms_p99,optional"`
	E2EOverheadP50      *float64 `parquet:"e2e_overhead_ms_p50,optional"`
	E2EOverheadP90      *float64 `parquet:"e2e_overhead_ms_p90,optional"`
	E2EOverheadP99      *float64 `parquet:"e2e_overhead_ms_p99,optional"`
	SpanQueueShare      *float64 `parquet:"span_queue_share_of_ttft,optional"`
	TTFTOverheadShare   *float64 `parquet:"ttft_overhead_share,optional"`
}
