package sim

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// vLLM V1's histogram buckets (vllm/v1/metrics/loggers.py).
var (
	ttftBuckets = []float64{0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0,
		7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0}
	itlBuckets = []float64{0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5,
		10.0, 20.0, 40.0, 80.0}
	requestLatencyBuckets = []float64{0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0,
		50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0}
	iterationBuckets = []float64{1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384}
	lagBuckets       = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}
)

// Finish reasons, as vLLM labels request_success_total.
const (
	reasonStop   = "stop"
	reasonLength = "length"
	reasonAbort  = "abort"
	reasonError  = "error"
)

// buckets125 is vLLM's build_1_2_5_buckets: 1, 2, 5, 10, 20, 50, … up to max.
func buckets125(maxValue int) []float64 {
	var out []float64
	for exp := 1; ; exp *= 10 {
		for _, m := range []int{1, 2, 5} {
			if m*exp > maxValue {
				return out
			}
			out = append(out, float64(m*exp))
		}
	}
}

// metrics is one server's Prometheus registry, with vLLM V1's names and labels. Every series
// is per engine (DP rank).
type metrics struct {
	reg     *prometheus.Registry
	engines []*engineMetrics
	lag     prometheus.Histogram
}

// engineMetrics are one DP rank's series, bound to their labels once.
type engineMetrics struct {
	running, waiting, kvUsage                  prometheus.Gauge
	preemptions, promptTokens, generation      prometheus.Counter
	prefixQueries                              prometheus.Counter
	success                                    map[string]prometheus.Counter
	ttft, itl, tpot, e2e, queue, inference     prometheus.Observer
	prefill, decode, promptLen, genLen, maxTok prometheus.Observer
	iteration                                  prometheus.Observer
}

func newMetrics(eff Effective) *metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	f := &family{reg: reg, labels: []string{"model_name", "engine"}}
	m := &metrics{reg: reg}
	vecs := newEngineVecs(f, eff.MaxModelLen)
	for rank := range eff.DP {
		m.engines = append(m.engines, vecs.bind(eff.Model, strconv.Itoa(rank)))
	}
	registerInfo(reg, eff)
	m.lag = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "llmscale:sim_lag_seconds",
		Help:    "How late each chunk was written after the model (or the fixed cadence) made its tokens ready (llmscale addition; near 0 means the simulator kept up).",
		Buckets: lagBuckets})
	reg.MustRegister(m.lag)
	return m
}

type family struct {
	reg    *prometheus.Registry
	labels []string
}

func (f *family) gauge(name, help string, extra ...string) *prometheus.GaugeVec {
	v := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, append(f.labels, extra...))
	f.reg.MustRegister(v)
	return v
}

func (f *family) counter(name, help string, extra ...string) *prometheus.CounterVec {
	v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, append(f.labels, extra...))
	f.reg.MustRegister(v)
	return v
}

func (f *family) histogram(name, help string, buckets []float64) *prometheus.HistogramVec {
	v := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, f.labels)
	f.reg.MustRegister(v)
	return v
}

type engineVecs struct {
	running, waiting, kvUsage, sleep                        *prometheus.GaugeVec
	preemptions, promptTokens, generation, success          *prometheus.CounterVec
	prefixQueries, prefixHits                               *prometheus.CounterVec
	ttft, itl, tpot, e2e, queue, inference, prefill, decode *prometheus.HistogramVec
	promptLen, genLen, maxTok, iteration                    *prometheus.HistogramVec
}

func newEngineVecs(f *family, maxModelLen int) engineVecs {
	lens := buckets125(maxModelLen)
	return engineVecs{
		running:       f.gauge("vllm:num_requests_running", "Number of requests in model execution batches."),
		waiting:       f.gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed."),
		kvUsage:       f.gauge("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage."),
		sleep:         f.gauge("vllm:engine_sleep_state", "Engine sleep state; awake = 1 means engine is awake.", "sleep_state"),
		preemptions:   f.counter("vllm:num_preemptions_total", "Cumulative number of preemption from the engine."),
		promptTokens:  f.counter("vllm:prompt_tokens_total", "Number of prefill tokens processed."),
		generation:    f.counter("vllm:generation_tokens_total", "Number of generation tokens processed."),
		success:       f.counter("vllm:request_success_total", "Count of successfully processed requests.", "finished_reason"),
		prefixQueries: f.counter("vllm:prefix_cache_queries_total", "Prefix cache queries, in terms of number of queried tokens."),
		prefixHits:    f.counter("vllm:prefix_cache_hits_total", "Prefix cache hits, in terms of number of cached tokens."),
		ttft:          f.histogram("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", ttftBuckets),
		itl:           f.histogram("vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", itlBuckets),
		tpot: f.histogram("vllm:request_time_per_output_token_seconds",
			"Histogram of time_per_output_token_seconds per request.", itlBuckets),
		e2e:       f.histogram("vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.", requestLatencyBuckets),
		queue:     f.histogram("vllm:request_queue_time_seconds", "Histogram of time spent in WAITING phase for request.", requestLatencyBuckets),
		inference: f.histogram("vllm:request_inference_time_seconds", "Histogram of time spent in RUNNING phase for request.", requestLatencyBuckets),
		prefill:   f.histogram("vllm:request_prefill_time_seconds", "Histogram of time spent in PREFILL phase for request.", requestLatencyBuckets),
		decode:    f.histogram("vllm:request_decode_time_seconds", "Histogram of time spent in DECODE phase for request.", requestLatencyBuckets),
		promptLen: f.histogram("vllm:request_prompt_tokens", "Number of prefill tokens processed.", lens),
		genLen:    f.histogram("vllm:request_generation_tokens", "Number of generation tokens processed.", lens),
		maxTok:    f.histogram("vllm:request_params_max_tokens", "Histogram of the max_tokens request parameter.", lens),
		iteration: f.histogram("vllm:iteration_tokens_total", "Histogram of number of tokens per engine_step.", iterationBuckets),
	}
}

func (v engineVecs) bind(model, engine string) *engineMetrics {
	l := prometheus.Labels{"model_name": model, "engine": engine}
	for state, on := range map[string]float64{"awake": 1, "weights_offloaded": 0, "discard_all": 0} {
		v.sleep.With(prometheus.Labels{"model_name": model, "engine": engine, "sleep_state": state}).Set(on)
	}
	m := &engineMetrics{
		running: v.running.With(l), waiting: v.waiting.With(l), kvUsage: v.kvUsage.With(l),
		preemptions: v.preemptions.With(l), promptTokens: v.promptTokens.With(l), generation: v.generation.With(l),
		prefixQueries: v.prefixQueries.With(l), success: map[string]prometheus.Counter{},
		ttft: v.ttft.With(l), itl: v.itl.With(l), tpot: v.tpot.With(l), e2e: v.e2e.With(l), queue: v.queue.With(l),
		inference: v.inference.With(l), prefill: v.prefill.With(l), decode: v.decode.With(l),
		promptLen: v.promptLen.With(l), genLen: v.genLen.With(l), maxTok: v.maxTok.With(l), iteration: v.iteration.With(l),
	}
	v.prefixHits.With(l).Add(0)
	for _, r := range []string{reasonStop, reasonLength, reasonAbort, reasonError} {
		m.success[r] = v.success.With(prometheus.Labels{"model_name": model, "engine": engine, "finished_reason": r})
	}
	return m
}

// registerInfo exports the configuration: vLLM's cache_config_info, and two llmscale additions
// (scheduler_config_info with the effective batch caps, and sim_info).
func registerInfo(reg *prometheus.Registry, eff Effective) {
	cache := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "vllm:cache_config_info",
		Help: "Information of the LLMEngine CacheConfig"},
		[]string{"block_size", "cache_dtype", "enable_prefix_caching", "gpu_memory_utilization", "num_cpu_blocks",
			"num_gpu_blocks", "num_gpu_blocks_override", "sliding_window", "swap_space", "engine"})
	sched := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "vllm:scheduler_config_info",
		Help: "Effective scheduler limits per engine (llmscale addition: vLLM does not export these)."},
		[]string{"model_name", "engine", "max_num_seqs", "max_num_batched_tokens", "max_model_len",
			"tensor_parallel_size", "data_parallel_size", "api_server_count"})
	info := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "llmscale:sim_info",
		Help: "The simulator's profiles and time scale (llmscale addition)."},
		[]string{"model_name", "version", "mode", "gpu", "model_profile", "interconnect", "speedup", "seed"})
	reg.MustRegister(cache, sched, info)
	itoa := strconv.Itoa
	for rank := range eff.DP {
		cache.WithLabelValues(itoa(eff.BlockSize), "auto", "False", strconv.FormatFloat(eff.GPUMemoryUtilization, 'g', -1, 64),
			"0", itoa(eff.NumGPUBlocks), "None", "None", "4", itoa(rank)).Set(1)
		sched.WithLabelValues(eff.Model, itoa(rank), itoa(eff.MaxNumSeqs), itoa(eff.MaxNumBatchedTokens),
			itoa(eff.MaxModelLen), itoa(eff.TP), itoa(eff.DP), itoa(eff.APIServerCount)).Set(1)
	}
	mode := "model"
	if eff.Cadence != nil {
		mode = "fixed-cadence"
	}
	info.WithLabelValues(eff.Model, eff.Version, mode, eff.GPU, eff.ModelProfile, eff.Interconnect,
		strconv.FormatFloat(eff.Speedup, 'g', -1, 64), strconv.FormatInt(eff.Seed, 10)).Set(1)
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
