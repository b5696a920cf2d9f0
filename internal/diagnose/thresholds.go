package diagnose

// Thresholds of the experiment rules. docs/analysis.md ("Bottleneck diagnosis") gives each
// one's reason; Thresholds lists them for the diagnosis files.
const (
	// AtCapFraction: requests running (mean over the window, all engines) at or above this
	// share of the batch cap (max_num_seqs × engines) means the batch is full. Not 1: a
	// closed-loop user whose request just finished is briefly not running, so a server held at
	// its cap by 256 users on 4 × 64 slots averages 92 %.
	AtCapFraction = 0.9
	// QueueMinRequests and QueueInflightFraction define a standing queue: waiting (mean) at
	// least max(QueueMinRequests, QueueInflightFraction × requests in flight). The threshold is
	// relative to what is in flight (the client's in-flight mean, else running + waiting, else
	// the users offered), never to a batch cap the load may not approach: 96 of 128 requests
	// waiting is a queue whatever the cap (vLLM's default 1024 sequences on an H100). Below it,
	// the requests waiting are the momentary ones of a closed loop. Without a waiting gauge
	// (an engine that exports none), requests in flight above the batch cap are the queue.
	QueueMinRequests      = 1.0
	QueueInflightFraction = 0.1
	// CloseMargin: another rule that held, or missed its thresholds by less than this
	// (relative), is named beside the verdict with its margin.
	CloseMargin = 0.1
	// HostBusyFraction and HostStealFraction: the whole host's CPU busy (or stolen by the
	// hypervisor) at least this share of the window makes the measurement suspect: the client
	// and the server competed for the machine. Read from host_cpu_util and host_steal.
	HostBusyFraction  = 0.85
	HostStealFraction = 0.05
	// ClientFailureFraction: requests that failed for the client's own reasons (file
	// descriptors, ephemeral ports, local timeouts: client_failures) at least this share of
	// the requests make the load generator the limit.
	ClientFailureFraction = 0.1
	// KVFullFraction: the fullest engine's KV-cache usage (max over the window) at or above it
	// means the cache is full; vLLM preempts when a running sequence needs a block and none is
	// free.
	KVFullFraction = 0.95
	// PreemptionRate: preemptions per finished request at or above it; one in a hundred is
	// already a measurable cost (a preempted request recomputes its prompt and output).
	PreemptionRate = 0.01
	// OutsideEngineFraction and OutsideEngineMinRequests: requests in flight at the client but
	// neither running nor waiting in any engine — inside the API server (tokenising, queued on
	// its event loop, detokenising, streaming) or the network — at least this share of the
	// client's in-flight requests, and at least this many.
	OutsideEngineFraction    = 0.25
	OutsideEngineMinRequests = 2.0
	// FrontendShare: the share of the server's own end-to-end latency spent outside the engine
	// (e2e − queue − inference, from the server's histograms) at or above it.
	FrontendShare = 0.25
	// BudgetFillFraction: mean tokens per engine step at or above this share of
	// max_num_batched_tokens means the prefill budget is what fills steps.
	BudgetFillFraction = 0.7
	// QueueShareOfTTFT: the engine's mean queue time at or above this share of the mean TTFT
	// means TTFT is dominated by queueing.
	QueueShareOfTTFT = 0.5
	// MaxSendLagP99Ms: a send lag (sent − due) p99 above it, in milliseconds, means the client
	// fell behind its schedule: requests left later than the load asked.
	MaxSendLagP99Ms = 10.0
	// MinAchievedRateFraction: in open loop, requests sent in the window below this share of
	// those due means the client did not keep the rate.
	MinAchievedRateFraction = 0.95
	// ClientCPUFraction: the load generator kept at least this share of its cores busy.
	ClientCPUFraction = 0.9
	// GPUBusyPct and SMActiveBusyPct: mean GPU utilisation (NVML, % of time a kernel ran) and,
	// where DCGM or GPM gives it, SM activity (% of SMs busy) at or above them mean the GPUs
	// are the limit. Utilisation alone reaches 100 % with one busy SM, hence the second test.
	GPUBusyPct      = 90.0
	SMActiveBusyPct = 70.0
	// GPUIdlePct: mean GPU utilisation below it means the GPUs were idle much of the window.
	GPUIdlePct = 50.0
)

// Thresholds of the series rules.
const (
	// NearLinearEfficiency: efficiency at the largest GPU count at or above it is near-linear
	// scaling, which needs no bottleneck to explain it.
	NearLinearEfficiency = 0.9
	// TPWorseThanDPMargin: a series that grows TP whose saturation throughput at some GPU
	// count is at least this share below the DP series' at the same count scales worse than
	// DP: every step pays for its all-reduces over the interconnect (and a replica's batch cap
	// does not grow with TP, while DP adds one per replica).
	TPWorseThanDPMargin = 0.1
	// OutsideEngineRise: the share of in-flight requests outside the engines (or of the
	// server's latency outside the engines) growing by at least this much from the smallest to
	// the largest GPU count of a DP series means the shared API server falls behind as ranks
	// are added.
	OutsideEngineRise = 0.1
	// SuperLinearEfficiency: efficiency above it at some GPU count is super-linear: either a
	// capacity effect (the smaller configuration was KV- or memory-starved) or a suspect
	// measurement.
	SuperLinearEfficiency = 1.1
	// RepeatSpread: repeats of one point whose throughputs spread (max − min) by more than
	// this share of their mean disagree: the point is erratic.
	RepeatSpread = 0.2
	// FlatSpeedup: a speed-up from the smallest to the largest GPU count below it is flat.
	FlatSpeedup = 1.1
	// FullerBaselineMargin: the baseline's batch at least this much fuller (share of its cap)
	// than the largest GPU count's, with no queue there, means the load did not keep the
	// larger server's batches full: its point understates it.
	FullerBaselineMargin = 0.03
)

// Thresholds returns every threshold by name, for the diagnosis files.
func Thresholds() map[string]float64 {
	return map[string]float64{
		"AtCapFraction": AtCapFraction, "QueueMinRequests": QueueMinRequests, "QueueInflightFraction": QueueInflightFraction,
		"CloseMargin": CloseMargin, "HostBusyFraction": HostBusyFraction, "HostStealFraction": HostStealFraction,
		"ClientFailureFraction": ClientFailureFraction, "SuperLinearEfficiency": SuperLinearEfficiency,
		"RepeatSpread": RepeatSpread, "FlatSpeedup": FlatSpeedup,
		"KVFullFraction": KVFullFraction, "PreemptionRate": PreemptionRate,
		"OutsideEngineFraction": OutsideEngineFraction, "OutsideEngineMinRequests": OutsideEngineMinRequests,
		"FrontendShare": FrontendShare, "BudgetFillFraction": BudgetFillFraction, "QueueShareOfTTFT": QueueShareOfTTFT,
		"MaxSendLagP99Ms": MaxSendLagP99Ms, "MinAchievedRateFraction": MinAchievedRateFraction,
		"ClientCPUFraction": ClientCPUFraction, "GPUBusyPct": GPUBusyPct, "SMActiveBusyPct": SMActiveBusyPct,
		"GPUIdlePct": GPUIdlePct, "NearLinearEfficiency": NearLinearEfficiency,
		"TPWorseThanDPMargin": TPWorseThanDPMargin, "OutsideEngineRise": OutsideEngineRise,
		"FullerBaselineMargin": FullerBaselineMargin, "ClientPathShare": ClientPathShare,
	}
}
