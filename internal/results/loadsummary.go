package results

import (
	"github.com/llmscale/llmscale/internal/loadspec"
)

// LoadSummary is summary.json (summary-<worker>.json): one load run's summary as
// `llmscale load` and the campaign write it, with vLLM's benchmark key names (mean_ttft_ms,
// p99_itl_ms, request_throughput, …) and llmscale's own; docs/results.md describes the keys.
// Its fields are in the order of their keys, as the file has always been written. Pointers are
// figures a file may lack or hold as null: summaries written before a figure existed, and
// goodput without objectives; the statistics of vLLM's own timing are present only where
// they differ from llmscale's.
type LoadSummary struct {
	AchievedRate         float64        `json:"achieved_rate"`
	API                  loadspec.API   `json:"api"`
	Arrival              string         `json:"arrival"`
	Burstiness           float64        `json:"burstiness"`
	CapWaits             int64          `json:"cap_waits"`
	Client               string         `json:"client"`
	ClientCores          *int           `json:"client_cores"`
	ClientCoresBusy      *float64       `json:"client_cores_busy"`
	ClientCPUS           float64        `json:"client_cpu_s"`
	ClientFailures       *int           `json:"client_failures"`
	ClientLimits         []string       `json:"client_limits"`
	Completed            int            `json:"completed"`
	Concurrency          int            `json:"concurrency"`
	ConnectionsDialled   int64          `json:"connections_dialled"`
	Duration             float64        `json:"duration"`
	ExperimentID         string         `json:"exp_id"`
	Failed               int            `json:"failed"`
	Failures             map[string]int `json:"failures"`
	FirstErrors          []string       `json:"first_errors"`
	GoodRequests         *int           `json:"good_requests,omitempty"`
	HostContended        bool           `json:"host_contended"`
	HostCPUUtil          *float64       `json:"host_cpu_util"`
	HostSharers          []string       `json:"host_sharers"`
	HostSteal            *float64       `json:"host_steal"`
	Interrupted          bool           `json:"interrupted"`
	MaxConnectMs         float64        `json:"max_connect_ms"`
	MaxE2ELFromDueMs     float64        `json:"max_e2el_from_due_ms"`
	MaxE2ELMs            float64        `json:"max_e2el_ms"`
	MaxInflight          int            `json:"max_inflight"`
	MaxITLMs             float64        `json:"max_itl_ms"`
	MaxITLvLLMMs         *float64       `json:"max_itl_vllm_ms,omitempty"`
	MaxSendLagMs         float64        `json:"max_send_lag_ms"`
	MaxTokenITLMs        float64        `json:"max_token_itl_ms"`
	MaxTPOTMs            float64        `json:"max_tpot_ms"`
	MaxTTFTMs            float64        `json:"max_ttft_ms"`
	MaxTTFTvLLMMs        *float64       `json:"max_ttft_vllm_ms,omitempty"`
	MaxWakeLagMs         float64        `json:"max_wake_lag_ms"`
	MeanConnectMs        float64        `json:"mean_connect_ms"`
	MeanE2ELFromDueMs    float64        `json:"mean_e2el_from_due_ms"`
	MeanE2ELMs           float64        `json:"mean_e2el_ms"`
	MeanITLMs            float64        `json:"mean_itl_ms"`
	MeanITLvLLMMs        *float64       `json:"mean_itl_vllm_ms,omitempty"`
	MeanSendLagMs        float64        `json:"mean_send_lag_ms"`
	MeanTokenITLMs       float64        `json:"mean_token_itl_ms"`
	MeanTPOTMs           float64        `json:"mean_tpot_ms"`
	MeanTTFTMs           float64        `json:"mean_ttft_ms"`
	MeanTTFTvLLMMs       *float64       `json:"mean_ttft_vllm_ms,omitempty"`
	MeanWakeLagMs        float64        `json:"mean_wake_lag_ms"`
	MedianConnectMs      float64        `json:"median_connect_ms"`
	MedianE2ELFromDueMs  float64        `json:"median_e2el_from_due_ms"`
	MedianE2ELMs         float64        `json:"median_e2el_ms"`
	MedianITLMs          float64        `json:"median_itl_ms"`
	MedianITLvLLMMs      *float64       `json:"median_itl_vllm_ms,omitempty"`
	MedianSendLagMs      float64        `json:"median_send_lag_ms"`
	MedianTokenITLMs     float64        `json:"median_token_itl_ms"`
	MedianTPOTMs         float64        `json:"median_tpot_ms"`
	MedianTTFTMs         float64        `json:"median_ttft_ms"`
	MedianTTFTvLLMMs     *float64       `json:"median_ttft_vllm_ms,omitempty"`
	MedianWakeLagMs      float64        `json:"median_wake_lag_ms"`
	Mode                 loadspec.Mode  `json:"mode"`
	Model                string         `json:"model"`
	NotSent              int            `json:"not_sent"`
	NumPrompts           *int           `json:"num_prompts"`
	OpenFilesLimit       uint64         `json:"open_files_limit"`
	OutputThroughput     float64        `json:"output_throughput"`
	P90ConnectMs         float64        `json:"p90_connect_ms"`
	P90E2ELFromDueMs     float64        `json:"p90_e2el_from_due_ms"`
	P90E2ELMs            float64        `json:"p90_e2el_ms"`
	P90ITLMs             float64        `json:"p90_itl_ms"`
	P90ITLvLLMMs         *float64       `json:"p90_itl_vllm_ms,omitempty"`
	P90SendLagMs         float64        `json:"p90_send_lag_ms"`
	P90TokenITLMs        float64        `json:"p90_token_itl_ms"`
	P90TPOTMs            float64        `json:"p90_tpot_ms"`
	P90TTFTMs            float64        `json:"p90_ttft_ms"`
	P90TTFTvLLMMs        *float64       `json:"p90_ttft_vllm_ms,omitempty"`
	P90WakeLagMs         float64        `json:"p90_wake_lag_ms"`
	P95ConnectMs         float64        `json:"p95_connect_ms"`
	P95E2ELFromDueMs     float64        `json:"p95_e2el_from_due_ms"`
	P95E2ELMs            float64        `json:"p95_e2el_ms"`
	P95ITLMs             float64        `json:"p95_itl_ms"`
	P95ITLvLLMMs         *float64       `json:"p95_itl_vllm_ms,omitempty"`
	P95SendLagMs         float64        `json:"p95_send_lag_ms"`
	P95TokenITLMs        float64        `json:"p95_token_itl_ms"`
	P95TPOTMs            float64        `json:"p95_tpot_ms"`
	P95TTFTMs            float64        `json:"p95_ttft_ms"`
	P95TTFTvLLMMs        *float64       `json:"p95_ttft_vllm_ms,omitempty"`
	P95WakeLagMs         float64        `json:"p95_wake_lag_ms"`
	P99ConnectMs         float64        `json:"p99_connect_ms"`
	P99E2ELFromDueMs     float64        `json:"p99_e2el_from_due_ms"`
	P99E2ELMs            float64        `json:"p99_e2el_ms"`
	P99ITLMs             float64        `json:"p99_itl_ms"`
	P99ITLvLLMMs         *float64       `json:"p99_itl_vllm_ms,omitempty"`
	P99SendLagMs         float64        `json:"p99_send_lag_ms"`
	P99TokenITLMs        float64        `json:"p99_token_itl_ms"`
	P99TPOTMs            float64        `json:"p99_tpot_ms"`
	P99TTFTMs            float64        `json:"p99_ttft_ms"`
	P99TTFTvLLMMs        *float64       `json:"p99_ttft_vllm_ms,omitempty"`
	P99WakeLagMs         float64        `json:"p99_wake_lag_ms"`
	PeakConnections      int64          `json:"peak_connections"`
	PeakInflight         int64          `json:"peak_inflight"`
	Phases               map[string]int `json:"phases"`
	PID                  int            `json:"pid,omitempty"` // a worker's process, when several share the load
	PreconnectError      string         `json:"preconnect_error"`
	PreconnectS          float64        `json:"preconnect_s"`
	Preconnected         int            `json:"preconnected"`
	RequestGoodput       *float64       `json:"request_goodput"`
	RequestRate          float64        `json:"request_rate"`
	RequestThroughput    float64        `json:"request_throughput"`
	RequestedRate        float64        `json:"requested_rate"`
	ScheduledRate        float64        `json:"scheduled_rate"`
	Seed                 int64          `json:"seed"`
	Sent                 int            `json:"sent"`
	SLOE2ELMs            *float64       `json:"slo_e2el_ms,omitempty"`
	SLOTPOTMs            *float64       `json:"slo_tpot_ms,omitempty"`
	SLOTTFTMs            *float64       `json:"slo_ttft_ms,omitempty"`
	StdConnectMs         float64        `json:"std_connect_ms"`
	StdE2ELFromDueMs     float64        `json:"std_e2el_from_due_ms"`
	StdE2ELMs            float64        `json:"std_e2el_ms"`
	StdITLMs             float64        `json:"std_itl_ms"`
	StdITLvLLMMs         *float64       `json:"std_itl_vllm_ms,omitempty"`
	StdSendLagMs         float64        `json:"std_send_lag_ms"`
	StdTokenITLMs        float64        `json:"std_token_itl_ms"`
	StdTPOTMs            float64        `json:"std_tpot_ms"`
	StdTTFTMs            float64        `json:"std_ttft_ms"`
	StdTTFTvLLMMs        *float64       `json:"std_ttft_vllm_ms,omitempty"`
	StdWakeLagMs         float64        `json:"std_wake_lag_ms"`
	Targets              []string       `json:"targets"`
	TargetsDown          []string       `json:"targets_down"`
	TotalInputTokens     int64          `json:"total_input_tokens"`
	TotalOutputTokens    int64          `json:"total_output_tokens"`
	TotalTokenThroughput float64        `json:"total_token_throughput"`
	Users                int            `json:"users"`
	WallS                float64        `json:"wall_s"`
	WorkerID             int            `json:"worker_id"`
	Workers              int            `json:"workers"`
}

// ReadLoadSummary reads a summary.json.
func ReadLoadSummary(path string) (LoadSummary, error) {
	var s LoadSummary
	err := ReadJSON(path, &s)
	return s, err
}

// LoadRecord is load.json (load-<worker>.json): what `llmscale load` ran, for provenance.
// Its fields are in the order of their keys, as the file has always been written; durations
// are in seconds.
type LoadRecord struct {
	API             loadspec.API  `json:"api"`
	Arrival         string        `json:"arrival"`
	Burstiness      float64       `json:"burstiness"`
	Client          string        `json:"client"`
	Concurrency     int           `json:"concurrency"`
	ConnectRate     float64       `json:"connect_rate"`
	ContinuousUsage bool          `json:"continuous_usage"`
	CooldownS       float64       `json:"cooldown_s"`
	ExperimentID    string        `json:"exp_id"`
	GraceS          float64       `json:"grace_s"`
	IgnoreEOS       bool          `json:"ignore_eos"`
	MaxInflight     int           `json:"max_inflight"`
	MaxTokens       int           `json:"max_tokens"`
	Mode            loadspec.Mode `json:"mode"`
	Model           string        `json:"model"`
	PromptSet       string        `json:"prompt_set"`
	Prompts         int           `json:"prompts"`
	Rate            float64       `json:"rate"`
	RunTimeS        float64       `json:"run_time_s"`
	Seed            int64         `json:"seed"`
	SpawnRate       float64       `json:"spawn_rate"`
	StallTimeoutS   float64       `json:"stall_timeout_s"`
	StartRampS      float64       `json:"start_ramp_s"`
	Targets         []string      `json:"targets"`
	ThinkTimeS      float64       `json:"think_time_s"`
	TimeoutS        float64       `json:"timeout_s"`
	Users           int           `json:"users"`
	Version         string        `json:"version"`
	WarmupS         float64       `json:"warmup_s"`
	WorkerID        int           `json:"worker_id"`
	Workers         int           `json:"workers"`
}
