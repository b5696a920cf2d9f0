//go:build linux

package loadgen

import (
	"context"
	"runtime"
	"testing"
	"time"
)

// streamCost is what the load generator's process holds while n streams are open and
// waiting for their next chunk: goroutines and goroutine stack bytes, the most seen in the
// middle of the streams, less what it held before the run.
type streamCost struct {
	goroutines  int
	stack, heap uint64 // heap: live, after a collection
}

// openStreams runs n users on client against a server in a child process (its goroutines
// are not this process's) whose streams last 2 s, one chunk every 100 ms, each user sending
// one request, and measures the open streams for 500 ms, from 300 ms after all n are in flight.
func openStreams(tb testing.TB, client string, n int) streamCost {
	tb.Helper()
	base := startCadenceChild(tb)
	cfg := tcpConfig(base + cadence{ttft: 100 * time.Millisecond, itl: 100 * time.Millisecond, tokens: 20}.path())
	cfg.Concurrency, cfg.Client, cfg.MaxRequests = n, client, n
	cfg.RunTime, cfg.Timeout, cfg.Grace = time.Second, 10*time.Second, 10*time.Second
	sink := &MemorySink{}
	r, err := New(cfg, sink)
	if err != nil {
		tb.Fatal(err)
	}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	g0 := runtime.NumGoroutine()
	measured := make(chan streamCost, 1)
	go func() { measured <- measure(r, n, g0, before) }()
	if _, err := r.Run(context.Background()); err != nil {
		tb.Fatal(err)
	}
	ok := 0
	for _, rec := range sink.Rows() {
		if rec.OK() {
			ok++
		}
	}
	if ok != n {
		tb.Fatalf("%d of %d requests succeeded", ok, n)
	}
	cost := <-measured
	if cost.goroutines < 0 {
		tb.Fatalf("the %d streams were never all in flight at once", n)
	}
	return cost
}

// measure waits until n requests are in flight, lets 300 ms pass, then samples for 500 ms.
func measure(r *Runner, n, g0 int, before runtime.MemStats) streamCost {
	deadline := time.Now().Add(10 * time.Second)
	for r.Progress().InFlight < int64(n) {
		if time.Now().After(deadline) {
			return streamCost{goroutines: -1}
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	runtime.GC() // frees the stacks of the goroutines that have ended (the senders')
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	peak := streamCost{heap: m.HeapAlloc - min(m.HeapAlloc, before.HeapAlloc)}
	for end := time.Now().Add(500 * time.Millisecond); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		peak.goroutines = max(peak.goroutines, runtime.NumGoroutine()-g0)
		peak.stack = max(peak.stack, m.StackInuse-min(m.StackInuse, before.StackInuse))
	}
	return peak
}

// TestOpenStreamsHoldNoGoroutine: with the event-loop client (epoll or io_uring), a user
// whose request is streaming holds no goroutine (net/http's client, the control, holds at
// least one per stream).
func TestOpenStreamsHoldNoGoroutine(t *testing.T) {
	const n = 300
	for _, client := range clientsHere(t, ClientEpoll, ClientIOURing, ClientNetHTTP) {
		t.Run(client, func(t *testing.T) {
			cost := openStreams(t, client, n)
			t.Logf("%d open streams: %d goroutines, %d bytes of stack", n, cost.goroutines, cost.stack)
			if client != ClientNetHTTP && cost.goroutines > n/10 {
				t.Errorf("%d goroutines more than before the run for %d open streams; want at most %d", cost.goroutines, n, n/10)
			}
			if client == ClientNetHTTP && cost.goroutines < n {
				t.Errorf("net/http: %d goroutines for %d open streams; want at least one each", cost.goroutines, n)
			}
		})
	}
}

// BenchmarkOpenStreamMemory reports what an open stream costs in goroutines, stack bytes and
// live heap bytes (the whole run's, the 1,000 streams' included, over 1,000), per client.
//
//	go test ./internal/loadgen -run '^$' -bench OpenStreamMemory -benchtime 1x
func BenchmarkOpenStreamMemory(b *testing.B) {
	const n = 1000
	for _, client := range []string{ClientEpoll, ClientNetHTTP} {
		b.Run(client, func(b *testing.B) {
			var cost streamCost
			for b.Loop() {
				cost = openStreams(b, client, n)
			}
			b.ReportMetric(float64(cost.goroutines)/n, "goroutines/stream")
			b.ReportMetric(float64(cost.stack)/n, "stack-B/stream")
			b.ReportMetric(float64(cost.heap)/n, "heap-B/stream")
		})
	}
}
