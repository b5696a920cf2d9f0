package promscrape

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmscale/llmscale/internal/memnet"
)

// newPipeListener is an in-memory listener: tests under testing/synctest cannot use TCP.
func newPipeListener() *memnet.Listener { return memnet.Listen() }

// startServer runs h on an httptest server over an in-memory listener and returns a client
// for it and its URL. Call it inside the synctest bubble; the server and the client's
// connections are closed when the test ends.
func startServer(t *testing.T, h http.Handler) (*http.Client, string) {
	t.Helper()
	l := newPipeListener()
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	client := &http.Client{Transport: &http.Transport{DialContext: l.Dial}}
	t.Cleanup(func() {
		client.CloseIdleConnections()
		srv.Close()
	})
	return client, srv.URL
}

// fakeVLLM serves a vLLM-like /metrics with two DP engines whose counters grow with the
// bubble's clock. It can fail or hang chosen scrapes and restart (reset its counters).
type fakeVLLM struct {
	t0      time.Time     // the server's start
	restart time.Duration // when its counters reset to zero (0: never)
	mu      sync.Mutex
	fail    map[int]int // scrape number → HTTP status to answer
	hang    map[int]bool
	n       int
}

func newFakeVLLM() *fakeVLLM {
	return &fakeVLLM{t0: time.Now(), fail: map[int]int{}, hang: map[int]bool{}}
}

// up is how long the counters have been growing at elapsed time e.
func (f *fakeVLLM) up(e time.Duration) float64 {
	if f.restart > 0 && e >= f.restart {
		return (e - f.restart).Seconds()
	}
	return e.Seconds() + 10 // it served for 10 s before the test started
}

func (f *fakeVLLM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	n := f.n
	f.n++
	status, hang := f.fail[n], f.hang[n]
	f.mu.Unlock()
	if hang {
		<-r.Context().Done()
		return
	}
	if status != 0 {
		http.Error(w, "engine dead", status)
		return
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	fmt.Fprint(w, f.exposition(time.Since(f.t0)))
}

// exposition is the /metrics text at elapsed time e: engine 0 generates 100 tokens/s, engine
// 1 50 tokens/s; each finishes 2 requests/s queued 0.5 s each; running = whole seconds mod 4
// (engine 0) and 1 (engine 1); KV usage 0.2 and 0.6.
func (f *fakeVLLM) exposition(e time.Duration) string {
	u := f.up(e)
	var b strings.Builder
	b.WriteString("# HELP vllm:num_requests_running Number of requests in model execution batches.\n# TYPE vllm:num_requests_running gauge\n")
	fmt.Fprintf(&b, "vllm:num_requests_running{engine=\"0\",model_name=\"m\"} %d.0\n", int(e.Seconds())%4)
	b.WriteString("vllm:num_requests_running{engine=\"1\",model_name=\"m\"} 1.0\n")
	b.WriteString("# TYPE vllm:num_requests_waiting gauge\nvllm:num_requests_waiting{engine=\"0\",model_name=\"m\"} 3.0\nvllm:num_requests_waiting{engine=\"1\",model_name=\"m\"} 0.0\n")
	b.WriteString("# TYPE vllm:num_requests_waiting_by_reason gauge\nvllm:num_requests_waiting_by_reason{engine=\"0\",model_name=\"m\",reason=\"capacity\"} 99.0\n")
	b.WriteString("# TYPE vllm:kv_cache_usage_perc gauge\nvllm:kv_cache_usage_perc{engine=\"0\",model_name=\"m\"} 0.2\nvllm:kv_cache_usage_perc{engine=\"1\",model_name=\"m\"} 0.6\n")
	b.WriteString("# TYPE vllm:generation_tokens_total counter\n")
	fmt.Fprintf(&b, "vllm:generation_tokens_total{engine=\"0\",model_name=\"m\"} %g\n", 100*u)
	fmt.Fprintf(&b, "vllm:generation_tokens_total{engine=\"1\",model_name=\"m\"} %g\n", 50*u)
	b.WriteString("# TYPE vllm:generation_tokens_created gauge\nvllm:generation_tokens_created{engine=\"0\",model_name=\"m\"} 1.7e+09\n")
	b.WriteString("# TYPE vllm:request_success_total counter\n")
	for _, e := range []string{"0", "1"} {
		fmt.Fprintf(&b, "vllm:request_success_total{engine=%q,finished_reason=\"length\",model_name=\"m\"} %g\n", e, 1.5*u)
		fmt.Fprintf(&b, "vllm:request_success_total{engine=%q,finished_reason=\"stop\",model_name=\"m\"} %g\n", e, 0.5*u)
	}
	b.WriteString("# TYPE vllm:request_queue_time_seconds histogram\n")
	for _, e := range []string{"0", "1"} {
		n := 2 * u
		fmt.Fprintf(&b, "vllm:request_queue_time_seconds_bucket{engine=%q,le=\"0.5\",model_name=\"m\"} %g\n", e, n)
		fmt.Fprintf(&b, "vllm:request_queue_time_seconds_bucket{engine=%q,le=\"+Inf\",model_name=\"m\"} %g\n", e, n)
		fmt.Fprintf(&b, "vllm:request_queue_time_seconds_count{engine=%q,model_name=\"m\"} %g\n", e, n)
		fmt.Fprintf(&b, "vllm:request_queue_time_seconds_sum{engine=%q,model_name=\"m\"} %g\n", e, 0.5*n)
	}
	b.WriteString("# TYPE vllm:cache_config_info gauge\n")
	for _, e := range []string{"1", "0"} {
		fmt.Fprintf(&b, "vllm:cache_config_info{block_size=\"16\",engine=%q,gpu_memory_utilization=\"0.9\",num_gpu_blocks=\"1000\"} 1.0\n", e)
	}
	b.WriteString("# TYPE vllm:scheduler_config_info gauge\nvllm:scheduler_config_info{max_num_batched_tokens=\"8192\",max_num_seqs=\"256\"} 1.0\n")
	return b.String()
}
