#!/usr/bin/python3
"""Regenerates the vLLM /metrics captures in this folder (see README.md).

It declares vLLM's metric families (names, HELP texts, label names, bucket bounds, types) the way
each vLLM generation declares them, feeds them a seeded simulated workload, and renders them with
the real prometheus_client library, which is what vLLM itself uses to serve /metrics. The output
therefore has the exact exposition format of a vLLM server (label order, float formatting,
`_created` gauges, counter `_total` suffixes, histogram sample order); only the values are
simulated.

Needs Debian's python3-prometheus-client (apt-get install python3-prometheus-client).
Run from this folder: /usr/bin/python3 gen_vllm_captures.py
"""

import random
import sys

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Summary
from prometheus_client import exposition
from prometheus_client import metrics as prom_metrics
from prometheus_client.openmetrics import exposition as om_exposition

MODEL = "Qwen/Qwen3-8B"
MAX_MODEL_LEN = 40960
TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5,
                5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0]
ITL_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0,
               7.5, 10.0, 20.0, 40.0, 80.0]
LATENCY_BUCKETS = [0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0,
                   60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0]
ITERATION_BUCKETS = [1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384]


def buckets_1_2_5(max_value):
    out, exp = [], 0
    while True:
        for m in (1, 2, 5):
            v = m * 10 ** exp
            if v > max_value:
                return out
            out.append(v)
        exp += 1


class Request:
    """One finished request of the simulated workload."""

    def __init__(self, rng, engine_load):
        self.prompt = int(rng.lognormvariate(6.0, 0.8)) + 1
        self.max_tokens = rng.choice([128, 256, 512])
        self.gen = min(self.max_tokens, int(rng.lognormvariate(5.0, 0.6)) + 1)
        self.reason = "length" if self.gen == self.max_tokens else "stop"
        self.cached = (self.prompt // 16) * 16 if rng.random() < 0.3 else 0
        self.queue = rng.expovariate(1.0 / (0.05 + engine_load))
        self.prefill = 0.0004 * (self.prompt - self.cached) + rng.uniform(0.01, 0.04)
        self.itl = [rng.uniform(0.012, 0.03) * (1 + engine_load) for _ in range(self.gen - 1)]
        self.decode = sum(self.itl)
        self.ttft = self.queue + self.prefill + rng.uniform(0.002, 0.01)
        self.e2e = self.ttft + self.decode


def workload(rng, n, load):
    return [Request(rng, load) for _ in range(n)]


def iteration_sizes(rng, reqs, batch):
    """Tokens per engine step: decode steps of ~batch tokens plus prefill chunks."""
    sizes = []
    gen = sum(r.gen for r in reqs)
    while gen > 0:
        b = max(1, min(gen, int(rng.gauss(batch, batch / 4))))
        sizes.append(b)
        gen -= b
    for r in reqs:
        sizes.append(r.prompt - r.cached + rng.randint(0, batch))
    return sizes


def http_metrics(reg, rng, n_requests):
    """The API server's prometheus-fastapi-instrumentator series."""
    req = Counter("http_requests", "Total number of requests by method, status and handler.",
                  ["handler", "method", "status"], registry=reg)
    req_size = Summary("http_request_size_bytes", "Content length of incoming requests by "
                       "handler. Only value of header is respected. Otherwise ignored. No "
                       "percentile calculated. ", ["handler"], registry=reg)
    resp_size = Summary("http_response_size_bytes", "Content length of outgoing responses by "
                        "handler. Only value of header is respected. Otherwise ignored. No "
                        "percentile calculated. ", ["handler"], registry=reg)
    highr = Histogram("http_request_duration_highr_seconds", "Latency with many buckets but no "
                      "API specific labels. Made for more accurate percentile calculations. ",
                      buckets=[0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0,
                               2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 7.5, 10.0, 30.0, 60.0],
                      registry=reg)
    dur = Histogram("http_request_duration_seconds", "Latency with only few buckets by handler. "
                    "Made to be only used if aggregation by handler is important. ",
                    ["handler", "method"], buckets=[0.1, 0.5, 1.0], registry=reg)
    for handler, method, n in (("/v1/completions", "POST", n_requests), ("/health", "GET", 31),
                               ("/metrics", "GET", 97), ("/v1/models", "GET", 2)):
        req.labels(handler, method, "2xx").inc(n)
        for _ in range(n):
            d = rng.uniform(0.5, 9.0) if method == "POST" else rng.uniform(0.0005, 0.004)
            highr.observe(d)
            dur.labels(handler, method).observe(d)
            req_size.labels(handler).observe(rng.randint(180, 4000) if method == "POST" else 0)
            resp_size.labels(handler).observe(rng.randint(300, 90000))
    req.labels("/v1/completions", "POST", "4xx").inc(3)


def cache_config_labels(num_gpu_blocks):
    return {"block_size": "16", "cache_dtype": "auto", "calculate_kv_scales": "False",
            "cpu_offload_gb": "0", "enable_prefix_caching": "True",
            "gpu_memory_utilization": "0.9", "is_attention_free": "False",
            "kv_sharing_fast_prefill": "False", "mamba_cache_dtype": "auto",
            "mamba_page_size_padded": "None", "mamba_ssm_cache_dtype": "auto",
            "num_cpu_blocks": "None", "num_gpu_blocks": str(num_gpu_blocks),
            "num_gpu_blocks_override": "None", "prefix_caching_hash_algo": "sha256",
            "sliding_window": "None", "swap_space": "4", "swap_space_bytes": "4294967296"}


class V1Families:
    """The families of vLLM's V1 PrometheusStatLogger; deprecated=True gives the 0.10 set."""

    def __init__(self, reg, deprecated):
        ln = ["model_name", "engine"]
        self.deprecated = deprecated
        self.running = Gauge("vllm:num_requests_running",
                             "Number of requests in model execution batches.", ln, registry=reg)
        self.waiting = Gauge("vllm:num_requests_waiting",
                             "Number of requests waiting to be processed.", ln, registry=reg)
        if not deprecated:
            self.waiting_by_reason = Gauge(
                "vllm:num_requests_waiting_by_reason",
                "Number of requests waiting to be processed, by reason.", ln + ["reason"],
                registry=reg)
            self.sleep = Gauge("vllm:engine_sleep_state", "Engine sleep state; awake = 0 means "
                               "engine is sleeping; awake = 1 means engine is awake; "
                               "weights_offloaded = 1 means sleep level 1; discard_all = 1 "
                               "means sleep level 2.", ln + ["sleep_state"], registry=reg)
        else:
            self.gpu_cache = Gauge("vllm:gpu_cache_usage_perc",
                                   "GPU KV-cache usage. 1 means 100 percent usage."
                                   "DEPRECATED: Use vllm:kv_cache_usage_perc instead.", ln,
                                   registry=reg)
            self.gpu_pq = Counter("vllm:gpu_prefix_cache_queries",
                                  "GPU prefix cache queries, in terms of number of queried"
                                  "tokens. DEPRECATED: Use vllm:prefix_cache_queries instead.",
                                  ln, registry=reg)
            self.gpu_ph = Counter("vllm:gpu_prefix_cache_hits",
                                  "GPU prefix cache hits, in terms of number of cached tokens. "
                                  "DEPRECATED: Use vllm:prefix_cache_hits instead.", ln,
                                  registry=reg)
        self.kv = Gauge("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.",
                        ln, registry=reg)
        self.pq = Counter("vllm:prefix_cache_queries",
                          "Prefix cache queries, in terms of number of queried tokens.", ln,
                          registry=reg)
        self.ph = Counter("vllm:prefix_cache_hits",
                          "Prefix cache hits, in terms of number of cached tokens.", ln,
                          registry=reg)
        if not deprecated:
            self.epq = Counter("vllm:external_prefix_cache_queries", "External prefix cache "
                               "queries from KV connector cross-instance cache sharing, in "
                               "terms of number of queried tokens.", ln, registry=reg)
            self.eph = Counter("vllm:external_prefix_cache_hits", "External prefix cache hits "
                               "from KV connector cross-instance cache sharing, in terms of "
                               "number of cached tokens.", ln, registry=reg)
            self.mmq = Counter("vllm:mm_cache_queries", "Multi-modal cache queries, in terms of "
                               "number of queried items.", ln, registry=reg)
            self.mmh = Counter("vllm:mm_cache_hits", "Multi-modal cache hits, in terms of "
                               "number of cached items.", ln, registry=reg)
        self.preempt = Counter("vllm:num_preemptions",
                               "Cumulative number of preemption from the engine.", ln,
                               registry=reg)
        self.prompt = Counter("vllm:prompt_tokens", "Number of prefill tokens processed.", ln,
                              registry=reg)
        if not deprecated:
            self.prompt_src = Counter("vllm:prompt_tokens_by_source", "Number of prompt tokens "
                                      "by source.", ln + ["source"], registry=reg)
            self.prompt_cached = Counter("vllm:prompt_tokens_cached", "Number of cached prompt "
                                         "tokens (local + external).", ln, registry=reg)
        self.gen = Counter("vllm:generation_tokens", "Number of generation tokens processed.",
                           ln, registry=reg)
        self.success = Counter("vllm:request_success",
                               "Count of successfully processed requests.",
                               ln + ["finished_reason"], registry=reg)
        lens = buckets_1_2_5(MAX_MODEL_LEN)
        self.req_prompt = Histogram("vllm:request_prompt_tokens",
                                    "Number of prefill tokens processed.", ln, buckets=lens,
                                    registry=reg)
        self.req_gen = Histogram("vllm:request_generation_tokens",
                                 "Number of generation tokens processed.", ln, buckets=lens,
                                 registry=reg)
        self.iter = Histogram("vllm:iteration_tokens_total",
                              "Histogram of number of tokens per engine_step.", ln,
                              buckets=ITERATION_BUCKETS, registry=reg)
        self.max_gen = Histogram("vllm:request_max_num_generation_tokens",
                                 "Histogram of maximum number of requested generation tokens.",
                                 ln, buckets=lens, registry=reg)
        self.n = Histogram("vllm:request_params_n", "Histogram of the n request parameter.", ln,
                           buckets=[1, 2, 5, 10, 20], registry=reg)
        self.max_tokens = Histogram("vllm:request_params_max_tokens",
                                    "Histogram of the max_tokens request parameter.", ln,
                                    buckets=lens, registry=reg)
        self.ttft = Histogram("vllm:time_to_first_token_seconds",
                              "Histogram of time to first token in seconds.", ln,
                              buckets=TTFT_BUCKETS, registry=reg)
        if deprecated:
            self.itl = Histogram("vllm:time_per_output_token_seconds",
                                 "Histogram of time per output token in seconds.", ln,
                                 buckets=ITL_BUCKETS, registry=reg)
        else:
            self.itl = Histogram("vllm:inter_token_latency_seconds",
                                 "Histogram of inter-token latency in seconds.", ln,
                                 buckets=ITL_BUCKETS, registry=reg)
            self.req_tpot = Histogram("vllm:request_time_per_output_token_seconds",
                                      "Histogram of time_per_output_token_seconds per request.",
                                      ln, buckets=ITL_BUCKETS, registry=reg)
        self.e2e = Histogram("vllm:e2e_request_latency_seconds",
                             "Histogram of e2e request latency in seconds.", ln,
                             buckets=LATENCY_BUCKETS, registry=reg)
        self.queue = Histogram("vllm:request_queue_time_seconds",
                               "Histogram of time spent in WAITING phase for request.", ln,
                               buckets=LATENCY_BUCKETS, registry=reg)
        self.infer = Histogram("vllm:request_inference_time_seconds",
                               "Histogram of time spent in RUNNING phase for request.", ln,
                               buckets=LATENCY_BUCKETS, registry=reg)
        self.prefill = Histogram("vllm:request_prefill_time_seconds",
                                 "Histogram of time spent in PREFILL phase for request.", ln,
                                 buckets=LATENCY_BUCKETS, registry=reg)
        self.decode = Histogram("vllm:request_decode_time_seconds",
                                "Histogram of time spent in DECODE phase for request.", ln,
                                buckets=LATENCY_BUCKETS, registry=reg)
        if not deprecated:
            self.kv_computed = Histogram("vllm:request_prefill_kv_computed_tokens",
                                         "Histogram of new KV tokens computed during prefill "
                                         "(excluding cached tokens).", ln, buckets=lens,
                                         registry=reg)
        info_labels = list(cache_config_labels(0).keys()) + ["engine"]
        self.cache_info = Gauge("vllm:cache_config_info",
                                "Information of the LLMEngine CacheConfig", info_labels,
                                registry=reg)

    def record(self, rng, engine, reqs, state):
        e = (MODEL, str(engine))
        running, waiting, kv, preemptions, blocks = state
        self.running.labels(*e).set(running)
        self.waiting.labels(*e).set(waiting)
        self.kv.labels(*e).set(kv)
        if self.deprecated:
            self.gpu_cache.labels(*e).set(kv)
        else:
            self.waiting_by_reason.labels(*e, "capacity").set(waiting)
            self.waiting_by_reason.labels(*e, "deferred").set(0)
            for s, v in (("awake", 1), ("weights_offloaded", 0), ("discard_all", 0)):
                self.sleep.labels(*e, s).set(v)
            for c in (self.epq, self.eph, self.mmq, self.mmh):
                c.labels(*e)
        queried = sum(r.prompt for r in reqs)
        hit = sum(r.cached for r in reqs)
        self.pq.labels(*e).inc(queried)
        self.ph.labels(*e).inc(hit)
        if self.deprecated:
            self.gpu_pq.labels(*e).inc(queried)
            self.gpu_ph.labels(*e).inc(hit)
        else:
            self.prompt_src.labels(*e, "local_compute").inc(queried - hit)
            self.prompt_src.labels(*e, "local_cache_hit").inc(hit)
            self.prompt_src.labels(*e, "external_kv_transfer").inc(0)
            self.prompt_cached.labels(*e).inc(hit)
        self.preempt.labels(*e).inc(preemptions)
        # vLLM counts every prefilled token, recomputation after preemption included.
        self.prompt.labels(*e).inc(queried - hit + preemptions * 200)
        self.gen.labels(*e).inc(sum(r.gen for r in reqs))
        for reason in ("stop", "length", "abort", "error"):
            self.success.labels(*e, reason).inc(sum(1 for r in reqs if r.reason == reason))
        for size in iteration_sizes(rng, reqs, max(1, running)):
            self.iter.labels(*e).observe(size)
        for r in reqs:
            self.observe_request(e, r)
        info = cache_config_labels(blocks)
        info["engine"] = str(engine)
        self.cache_info.labels(**info).set(1)

    def observe_request(self, e, r):
        self.req_prompt.labels(*e).observe(r.prompt)
        self.req_gen.labels(*e).observe(r.gen)
        self.max_gen.labels(*e).observe(r.max_tokens)
        self.n.labels(*e).observe(1)
        self.max_tokens.labels(*e).observe(r.max_tokens)
        self.ttft.labels(*e).observe(r.ttft)
        for gap in r.itl:
            self.itl.labels(*e).observe(gap)
        if not self.deprecated:
            if r.gen > 1:
                self.req_tpot.labels(*e).observe(r.decode / (r.gen - 1))
            self.kv_computed.labels(*e).observe(r.prompt - r.cached)
        self.e2e.labels(*e).observe(r.e2e)
        self.queue.labels(*e).observe(r.queue)
        self.infer.labels(*e).observe(r.prefill + r.decode)
        self.prefill.labels(*e).observe(r.prefill)
        self.decode.labels(*e).observe(r.decode)


def v1_capture(seed, deprecated, engines):
    rng = random.Random(seed)
    reg = CollectorRegistry(auto_describe=True)
    # the API server's own series come first, as on a real server
    from prometheus_client import GCCollector, PlatformCollector, ProcessCollector
    GCCollector(registry=reg)
    PlatformCollector(registry=reg)
    ProcessCollector(registry=reg)
    fam = V1Families(reg, deprecated)
    total = 0
    for engine, state in engines:
        n = rng.randint(150, 220)
        total += n
        fam.record(rng, engine, workload(rng, n, load=state[1] / 50.0), state)
    http_metrics(reg, rng, total)
    return reg


class V0Families:
    """vLLM 0.6-era (V0 engine) metrics: no engine label, multiprocess mode (no _created)."""

    def __init__(self, reg):
        ln = ["model_name"]
        g = lambda n, h: Gauge(n, h, ln, registry=reg, multiprocess_mode="sum")
        self.gauges = {
            "running": g("vllm:num_requests_running",
                         "Number of requests currently running on GPU."),
            "swapped": g("vllm:num_requests_swapped", "Number of requests swapped to CPU."),
            "waiting": g("vllm:num_requests_waiting", "Number of requests waiting to be "
                         "processed."),
            "gpu_cache": g("vllm:gpu_cache_usage_perc", "GPU KV-cache usage. 1 means 100 "
                           "percent usage."),
            "cpu_cache": g("vllm:cpu_cache_usage_perc", "CPU KV-cache usage. 1 means 100 "
                           "percent usage."),
            "cpu_hit": g("vllm:cpu_prefix_cache_hit_rate", "CPU prefix cache block hit rate."),
            "gpu_hit": g("vllm:gpu_prefix_cache_hit_rate", "GPU prefix cache block hit rate."),
            "prompt_tput": g("vllm:avg_prompt_throughput_toks_per_s",
                             "Average prefill throughput in tokens/s."),
            "gen_tput": g("vllm:avg_generation_throughput_toks_per_s",
                          "Average generation throughput in tokens/s."),
        }
        self.cache_info = Gauge("vllm:cache_config_info", "Information of the LLMEngine "
                                "CacheConfig", ["block_size", "cache_dtype", "cpu_offload_gb",
                                                "enable_prefix_caching",
                                                "gpu_memory_utilization", "num_cpu_blocks",
                                                "num_gpu_blocks", "num_gpu_blocks_override",
                                                "sliding_window", "swap_space_bytes"],
                                registry=reg, multiprocess_mode="sum")
        c = lambda n, h, extra=(): Counter(n, h, ln + list(extra), registry=reg)
        self.preempt = c("vllm:num_preemptions", "Cumulative number of preemption from the "
                         "engine.")
        self.prompt = c("vllm:prompt_tokens", "Number of prefill tokens processed.")
        self.gen = c("vllm:generation_tokens", "Number of generation tokens processed.")
        self.success = c("vllm:request_success", "Count of successfully processed requests.",
                         ["finished_reason"])
        h = lambda n, doc, b: Histogram(n, doc, ln, buckets=b, registry=reg)
        lens = buckets_1_2_5(8192)
        self.iter = h("vllm:iteration_tokens_total", "Histogram of number of tokens per "
                      "engine_step.", [1, 8, 16, 24, 32, 40, 48, 56, 64, 72, 80, 88, 96, 104,
                                       112, 120, 128, 136, 144, 152, 160, 168, 176, 184, 192,
                                       200, 208, 216, 224, 232, 240, 248, 256])
        self.ttft = h("vllm:time_to_first_token_seconds", "Histogram of time to first token "
                      "in seconds.", TTFT_BUCKETS[:-3] + [160.0, 640.0, 2560.0])
        self.tpot = h("vllm:time_per_output_token_seconds", "Histogram of time per output "
                      "token in seconds.", ITL_BUCKETS)
        self.e2e = h("vllm:e2e_request_latency_seconds", "Histogram of end to end request "
                     "latency in seconds.", LATENCY_BUCKETS)
        self.queue = h("vllm:request_queue_time_seconds", "Histogram of time spent in WAITING "
                       "phase for request.", LATENCY_BUCKETS)
        self.infer = h("vllm:request_inference_time_seconds", "Histogram of time spent in "
                       "RUNNING phase for request.", LATENCY_BUCKETS)
        self.prefill = h("vllm:request_prefill_time_seconds", "Histogram of time spent in "
                         "PREFILL phase for request.", LATENCY_BUCKETS)
        self.decode = h("vllm:request_decode_time_seconds", "Histogram of time spent in DECODE "
                        "phase for request.", LATENCY_BUCKETS)
        self.in_queue = h("vllm:time_in_queue_requests", "Histogram of time the request spent "
                          "in the queue in seconds.", LATENCY_BUCKETS)
        self.req_prompt = h("vllm:request_prompt_tokens", "Number of prefill tokens "
                            "processed.", lens)
        self.req_gen = h("vllm:request_generation_tokens", "Number of generation tokens "
                         "processed.", lens)
        self.n = h("vllm:request_params_n", "Histogram of the n request parameter.",
                   [1, 2, 5, 10, 20])
        self.max_gen = h("vllm:request_max_num_generation_tokens", "Histogram of maximum "
                         "number of requested generation tokens.", lens)

    def record(self, rng, model, reqs):
        m = (model,)
        vals = {"running": 12, "swapped": 0, "waiting": 3, "gpu_cache": 0.4217451523545706,
                "cpu_cache": 0.0, "cpu_hit": -1.0, "gpu_hit": -1.0,
                "prompt_tput": 1843.2, "gen_tput": 612.7}
        for k, v in vals.items():
            self.gauges[k].labels(*m).set(v)
        self.cache_info.labels("16", "auto", "0", "False", "0.9", "2048", "2375", "None",
                               "None", "4294967296").set(1)
        self.preempt.labels(*m).inc(4)
        self.prompt.labels(*m).inc(sum(r.prompt for r in reqs))
        self.gen.labels(*m).inc(sum(r.gen for r in reqs))
        for reason in ("stop", "length"):
            self.success.labels(*m, reason).inc(sum(1 for r in reqs if r.reason == reason))
        for size in iteration_sizes(rng, reqs, 12):
            self.iter.labels(*m).observe(min(size, 256))
        for r in reqs:
            for hist, v in ((self.ttft, r.ttft), (self.e2e, r.e2e), (self.queue, r.queue),
                            (self.in_queue, r.queue), (self.infer, r.prefill + r.decode),
                            (self.prefill, r.prefill), (self.decode, r.decode),
                            (self.req_prompt, r.prompt), (self.req_gen, r.gen),
                            (self.n, 1), (self.max_gen, r.max_tokens)):
                hist.labels(*m).observe(v)
            for gap in r.itl:
                self.tpot.labels(*m).observe(gap)


def v0_capture(seed):
    rng = random.Random(seed)
    reg = CollectorRegistry(auto_describe=True)
    fam = V0Families(reg)
    fam.record(rng, "meta-llama/Llama-3.1-8B-Instruct", workload(rng, 180, load=0.1))
    return reg


# Families kept in the OpenMetrics capture: expfmt's OpenMetrics decoder costs milliseconds per
# line, so the test capture holds a representative subset rather than the whole exposition.
OM_FAMILIES = {"vllm:num_requests_running", "vllm:num_requests_waiting",
               "vllm:num_requests_waiting_by_reason", "vllm:kv_cache_usage_perc",
               "vllm:prompt_tokens", "vllm:generation_tokens", "vllm:num_preemptions",
               "vllm:request_success", "vllm:request_queue_time_seconds"}


def om_subset(data):
    """Keeps the OM_FAMILIES blocks of an OpenMetrics exposition (and its # EOF)."""
    out, keep = [], False
    for line in data.decode().splitlines(keepends=True):
        if line.startswith("# HELP "):
            keep = line.split(" ")[2] in OM_FAMILIES
        if keep or line.startswith("# EOF"):
            out.append(line)
    return "".join(out).encode()


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    print(f"wrote {path} ({len(data)} bytes)", file=sys.stderr)


def main():
    # engine index → (running, waiting, kv_cache_usage, preemptions, num_gpu_blocks)
    dp2 = [(0, (48, 7, 0.6231, 3, 27054)), (1, (41, 2, 0.5319, 0, 27054))]
    modern = v1_capture(20260101, deprecated=False, engines=dp2)
    write("vllm-v1-dp2.txt", exposition.generate_latest(modern))
    write("vllm-v1-dp2.openmetrics.txt", om_subset(om_exposition.generate_latest(modern)))
    write("vllm-0.10-dp2-deprecated.txt",
          exposition.generate_latest(v1_capture(20250801, deprecated=True, engines=dp2)))
    # V0 served /metrics in prometheus_client's multiprocess mode, which has no _created series.
    prom_metrics._use_created = False
    write("vllm-v0-legacy.txt", exposition.generate_latest(v0_capture(20241001)))


if __name__ == "__main__":
    main()
