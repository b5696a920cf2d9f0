package sim

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func scrape(t *testing.T, ts *testServer) map[string]*dto.MetricFamily {
	t.Helper()
	code, body := ts.get(t, "/metrics")
	if code != 200 {
		t.Fatalf("/metrics %d", code)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// sum adds a counter or gauge over every series whose labels include match.
func sum(t *testing.T, fams map[string]*dto.MetricFamily, name string, match map[string]string) float64 {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		t.Fatalf("metric %s missing", name)
	}
	total := 0.0
	for _, m := range f.Metric {
		if !labelsMatch(m, match) {
			continue
		}
		switch {
		case m.Counter != nil:
			total += m.Counter.GetValue()
		case m.Gauge != nil:
			total += m.Gauge.GetValue()
		case m.Histogram != nil:
			total += float64(m.Histogram.GetSampleCount())
		}
	}
	return total
}

func labelsMatch(m *dto.Metric, match map[string]string) bool {
	for k, v := range match {
		found := false
		for _, l := range m.Label {
			if l.GetName() == k && l.GetValue() == v {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func TestMetricsAgreeWithClients(t *testing.T) {
	t.Parallel()
	cfg := fastConfig()
	cfg.DP = 2
	ts := startServer(t, cfg)
	var mu sync.Mutex
	var prompt, completion, requests int
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			body := map[string]any{"prompt": "count these tokens please", "max_tokens": 5 + i, "ignore_eos": i%4 != 0,
				"stream": i%3 != 0}
			path := "/v1/completions"
			if i%2 == 1 {
				path = "/v1/chat/completions"
				body["messages"] = []map[string]string{{"role": "user", "content": "count"}}
				delete(body, "prompt")
			}
			if body["stream"] == true {
				body["stream_options"] = map[string]any{"include_usage": true}
			}
			u := usageOf(t, ts, path, body)
			mu.Lock()
			prompt, completion, requests = prompt+u.PromptTokens, completion+u.CompletionTokens, requests+1
			mu.Unlock()
		})
	}
	wg.Wait()
	fams := scrape(t, ts)
	checks := []struct {
		name string
		want float64
	}{
		{"vllm:prompt_tokens_total", float64(prompt)},
		{"vllm:generation_tokens_total", float64(completion)},
		{"vllm:request_success_total", float64(requests)},
		{"vllm:e2e_request_latency_seconds", float64(requests)},
		{"vllm:time_to_first_token_seconds", float64(requests)},
		{"vllm:request_queue_time_seconds", float64(requests)},
		{"vllm:request_prefill_time_seconds", float64(requests)},
		{"vllm:request_decode_time_seconds", float64(requests)},
		{"vllm:request_generation_tokens", float64(requests)},
		// every token after the first of a response is one inter-token gap
		{"vllm:inter_token_latency_seconds", float64(completion - requests)},
		{"vllm:num_requests_running", 0},
		{"vllm:num_requests_waiting", 0},
		{"vllm:num_preemptions_total", 0},
	}
	for _, c := range checks {
		if got := sum(t, fams, c.name, nil); got != c.want {
			t.Errorf("%s = %g, clients saw %g", c.name, got, c.want)
		}
	}
	if got := sum(t, fams, "vllm:request_success_total", map[string]string{"finished_reason": "abort"}); got != 0 {
		t.Errorf("%g aborted requests", got)
	}
	checkLabels(t, fams, ts.Effective())
}

func usageOf(t *testing.T, ts *testServer, path string, body map[string]any) usageJSON {
	t.Helper()
	resp := ts.post(t, path, body)
	if body["stream"] == true {
		return *collect(t, resp).usage
	}
	defer resp.Body.Close()
	var r struct{ Usage usageJSON }
	if err := decodeJSON(resp.Body, &r); err != nil {
		t.Fatal(err)
	}
	return r.Usage
}

// checkLabels checks vLLM's labels, the per-engine series and the configuration info gauges.
func checkLabels(t *testing.T, fams map[string]*dto.MetricFamily, eff Effective) {
	t.Helper()
	for _, name := range []string{"vllm:num_requests_running", "vllm:generation_tokens_total", "vllm:iteration_tokens_total"} {
		engines := map[string]bool{}
		for _, m := range fams[name].Metric {
			if !labelsMatch(m, map[string]string{"model_name": eff.Model}) {
				t.Errorf("%s series without model_name=%q", name, eff.Model)
			}
			for _, l := range m.Label {
				if l.GetName() == "engine" {
					engines[l.GetValue()] = true
				}
			}
		}
		if len(engines) != eff.DP {
			t.Errorf("%s has engines %v, want %d", name, engines, eff.DP)
		}
	}
	if fams["vllm:iteration_tokens_total"].GetType() != dto.MetricType_HISTOGRAM {
		t.Error("vllm:iteration_tokens_total is not a histogram")
	}
	var bounds []float64
	for _, b := range fams["vllm:time_to_first_token_seconds"].Metric[0].Histogram.Bucket {
		bounds = append(bounds, b.GetUpperBound())
	}
	// The text format lists +Inf too.
	if want := fmt.Sprint(append(slices.Clone(ttftBuckets), math.Inf(1))); fmt.Sprint(bounds) != want {
		t.Errorf("TTFT buckets %v, want vLLM's %v", bounds, want)
	}
	blocks := strconv.Itoa(eff.NumGPUBlocks)
	if got := sum(t, fams, "vllm:cache_config_info", map[string]string{"num_gpu_blocks": blocks, "block_size": "16"}); got != float64(eff.DP) {
		t.Errorf("cache_config_info with num_gpu_blocks=%s: %g series, want %d", blocks, got, eff.DP)
	}
	sched := map[string]string{"max_num_seqs": strconv.Itoa(eff.MaxNumSeqs),
		"max_num_batched_tokens": strconv.Itoa(eff.MaxNumBatchedTokens)}
	if got := sum(t, fams, "vllm:scheduler_config_info", sched); got != float64(eff.DP) {
		t.Errorf("scheduler_config_info %v: %g series, want %d", sched, got, eff.DP)
	}
	if _, ok := fams["process_cpu_seconds_total"]; !ok {
		t.Error("process_cpu_seconds_total missing")
	}
}

func TestBuckets125(t *testing.T) {
	t.Parallel()
	if got := fmt.Sprint(buckets125(100)); got != "[1 2 5 10 20 50 100]" {
		t.Errorf("buckets125(100) = %s", got)
	}
	if got := buckets125(8192); got[len(got)-1] != 5000 {
		t.Errorf("buckets125(8192) ends %g", got[len(got)-1])
	}
}

// TestMetricsOfAbortAndPreemption checks the counters of aborted requests and preemptions.
func TestMetricsOfAbortAndPreemption(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		// A KV cache of a few thousand tokens and long answers: the engine must preempt.
		b := startBubble(t, Config{GPUMemoryUtilization: 0.22, MaxModelLen: 2048, MaxNumSeqs: 64})
		var wg sync.WaitGroup
		for i := range 40 {
			wg.Go(func() {
				body := streamBody(1500)
				body["prompt"] = make([]int, 500)
				resp, err := b.do(t, "/v1/completions", body, fmt.Sprint(i))
				timedStream(t, resp, err)
			})
		}
		// One client gives up after a second.
		wg.Go(func() {
			req := streamBody(1000)
			resp, err := b.do(t, "/v1/completions", req, "leaver")
			if err != nil {
				t.Error(err)
				return
			}
			time.Sleep(time.Second)
			resp.Body.Close()
		})
		wg.Wait()
		time.Sleep(time.Second)
		fams := scrapeHandler(t, b.srv)
		if err := b.stop(); err != nil {
			t.Fatal(err)
		}
		if got := sum(t, fams, "vllm:num_preemptions_total", nil); got == 0 {
			t.Error("no preemptions counted")
		}
		if got := sum(t, fams, "vllm:request_success_total", map[string]string{"finished_reason": "abort"}); got != 1 {
			t.Errorf("%g aborts counted, want 1", got)
		}
		if got := sum(t, fams, "vllm:request_success_total", map[string]string{"finished_reason": "length"}); got != 40 {
			t.Errorf("%g requests finished, want 40", got)
		}
		if got := sum(t, fams, "vllm:kv_cache_usage_perc", nil); got != 0 {
			t.Errorf("KV usage %g after every request ended", got)
		}
	})
}

// scrapeHandler reads /metrics through the handler directly.
func scrapeHandler(t *testing.T, s *Server) map[string]*dto.MetricFamily {
	t.Helper()
	rec := newRecorderWriter()
	s.Handler().ServeHTTP(rec, mustRequest(t, "GET", "/metrics"))
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader([]byte(rec.body.String())))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}
