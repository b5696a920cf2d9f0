"""Reads a vllm_result.json as vLLM's own tooling does, and fails on what would break it.

The checks follow vllm/benchmarks/serve.py (the keys and types main_async writes) and what its
readers do with them: save_to_pytorch_benchmark_format takes the statistics by name and
everything else as extra_info; the timeline plot zips start_times, ttfts, itls, input_lens and
output_lens request by request and sums each request's itls.
"""
import json
import math
import sys


def main(path):
    with open(path, encoding="utf-8") as f:
        result = json.load(f)
    for key in ("date", "backend", "model_id", "num_prompts", "request_rate", "burstiness",
                "max_concurrency", "duration", "completed", "failed", "total_input_tokens",
                "total_output_tokens", "request_throughput", "request_goodput",
                "output_throughput", "total_token_throughput", "max_output_tokens_per_s",
                "max_concurrent_requests"):
        assert key in result, "missing " + key
    rate = float(result["request_rate"])  # "inf" in a closed loop, as vLLM writes it
    assert rate > 0, rate
    assert isinstance(result["duration"], float)
    assert isinstance(result["completed"], int) and isinstance(result["num_prompts"], int)
    for key in ("request_throughput", "output_throughput", "total_token_throughput"):
        assert isinstance(result[key], float) and math.isfinite(result[key]), key
    metrics = [k for k in result if k.endswith("_ms") and k.split("_")[0] in ("mean", "median", "std")
               or k[0] == "p" and k.endswith("_ms")]
    assert metrics, "no statistics"
    for k in metrics:
        assert isinstance(result[k], float), k
    n = len(result["ttfts"])
    for key in ("input_lens", "output_lens", "itls", "start_times", "errors", "generated_texts"):
        assert len(result[key]) == n, key
    completed = 0
    for start, ttft, itl, inp, out, err in zip(result["start_times"], result["ttfts"], result["itls"],
                                               result["input_lens"], result["output_lens"],
                                               result["errors"]):
        latency = ttft + sum(itl) if itl else ttft
        assert latency >= 0 and start >= 0 and inp >= 0 and out >= 0
        completed += err == ""
    assert completed == result["completed"], (completed, result["completed"])
    assert sum(result["output_lens"]) == result["total_output_tokens"]


if __name__ == "__main__":
    main(sys.argv[1])
