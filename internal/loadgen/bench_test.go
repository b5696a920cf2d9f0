//go:build linux

package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/schedule"
	"github.com/llmscale/llmscale/internal/sse"
	"github.com/llmscale/llmscale/internal/stats"
)

// The benchmarks of docs/performance.md. Client and server on separate cores:
//
//	go test -c -o /tmp/loadgen.test ./internal/loadgen
//	LLMSCALE_BENCH_SERVER_CPU=1 taskset -c 0 /tmp/loadgen.test -test.run '^$' \
//	    -test.bench 'ClientCPU|TimingError|OpenLoop' -test.benchtime 1x -test.count 3
//
// Without LLMSCALE_BENCH_SERVER_CPU the server runs in the benchmark's own process (the CPU
// figures then include it, and the sub-benchmark names say server=inproc).

// BenchmarkIngest is the per-chunk work of the client without the network: SSE framing,
// reading the JSON chunk, counting its tokens, noting its time.
//
//	go test ./internal/loadgen -run '^$' -bench Ingest -benchmem -count 10
func BenchmarkIngest(b *testing.B) {
	for _, api := range []loadspec.API{loadspec.APICompletions, loadspec.APIChat} {
		data := benchStream(api, 1024)
		b.Run("api="+string(api), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			sr := sse.NewReader(nil)
			rd := bytes.NewReader(data)
			chunks := 0
			cpu0 := cpuTime()
			for b.Loop() {
				rd.Reset(data)
				sr.Reset(rd)
				x := &exchange{r: &Runner{}, rec: &results.Request{}, first: -1, vFirst: -1, usageP: -1, usageC: -1,
					itl: make([]int64, 0, 1024), counts: make([]int32, 0, 1024), cum: make([]int64, 0, 1024)}
				for {
					ev, err := sr.Next()
					if errors.Is(err, io.EOF) || err == nil && x.event(ev, time.Duration(chunks)) {
						break
					}
				}
				chunks += len(x.counts)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(chunks), "ns/chunk")
			// CPU time per chunk: steadier than wall time on a shared machine.
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(chunks), "cpu-ns/chunk")
		})
	}
}

func benchStream(api loadspec.API, n int) []byte {
	var b bytes.Buffer
	for i := range n {
		if api == loadspec.APIChat {
			fmt.Fprintf(&b, `data: {"id":"chatcmpl-2b7e151628aed2a6","object":"chat.completion.chunk","created":1767225600,"model":"meta-llama/Meta-Llama-3-8B-Instruct","choices":[{"index":0,"delta":{"content":" tok%d"},"logprobs":null,"finish_reason":null}]}`+"\n\n", i)
			continue
		}
		fmt.Fprintf(&b, `data: {"id":"cmpl-5d3a9f0c7b2e4e1f","object":"text_completion","created":1767225600,"model":"meta-llama/Meta-Llama-3-8B-Instruct","choices":[{"index":0,"text":" tok%d","logprobs":null,"finish_reason":null,"stop_reason":null}],"usage":null}`+"\n\n", i)
	}
	fmt.Fprintf(&b, `data: {"id":"x","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":%d}}`+"\n\ndata: [DONE]\n\n", n)
	return b.Bytes()
}

// benchClients are the clients the benchmarks compare: all three, or those LLMSCALE_BENCH_CLIENTS
// names (comma-separated).
func benchClients() []string {
	if v := os.Getenv("LLMSCALE_BENCH_CLIENTS"); v != "" {
		return strings.Split(v, ",")
	}
	return []string{ClientNetHTTP, ClientEpoll, ClientIOURing}
}

// clientTag names a client in a benchmark's name (no slash: benchmark names split on it).
func clientTag(client string) string { return "client=" + strings.ReplaceAll(client, "/", "") }

func serverTag(separate bool) string {
	if separate {
		return "server=child"
	}
	return "server=inproc"
}

// benchRun runs cfg once and returns the summary, the records and the clocks at the start.
func benchRun(b *testing.B, cfg Config) (Summary, []results.Request, int64, int64) {
	b.Helper()
	sink := &MemorySink{}
	mono, wall := monoNow(), time.Now().UnixNano()
	sum, err := Run(context.Background(), cfg, sink)
	if err != nil {
		b.Fatal(err)
	}
	return sum, sink.Rows(), mono, wall
}

func benchConfig(target string) Config {
	return Config{Load: loadspec.Load{Intensity: loadspec.Intensity{Mode: loadspec.ModeConcurrency}, Targets: []string{target}, Model: "m", MaxTokens: 16, Grace: 10 * time.Second, Timeout: time.Minute, Seed: 1}, Prompts: testPrompts(8)}
}

// BenchmarkClientCPU measures the client's CPU time per ingested token against a server that
// streams as fast as it can: 1,024 one-token chunks per request, flushed one by one (batch=1:
// a write system call per chunk, so the server's core sets the pace and the client reads most
// chunks one at a time) or sixteen at a time (batch=16: the client's own cost per token).
func BenchmarkClientCPU(b *testing.B) {
	base, separate := startCadenceServer(b)
	for _, client := range benchClients() {
		for _, batch := range []int{1, 16} {
			for _, streams := range []int{16, 64, 256} {
				name := fmt.Sprintf("%s/%s/batch=%d/streams=%d", serverTag(separate), clientTag(client), batch, streams)
				b.Run(name, func(b *testing.B) { benchClientCPU(b, base, client, batch, streams) })
			}
		}
	}
}

func benchClientCPU(b *testing.B, base, client string, batch, streams int) {
	var cpu time.Duration
	var tokens int64
	for b.Loop() {
		cfg := benchConfig(base + cadence{tokens: 1024, batch: batch}.path())
		cfg.Concurrency, cfg.RunTime, cfg.Client = streams, 3*time.Second, client
		sum, rows, _, _ := benchRun(b, cfg)
		cpu += sum.ClientCPU
		for _, r := range rows {
			tokens += int64(len(r.ChunkTokens))
		}
		fetchWrites(b, base)
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(tokens), "cpu-ns/token")
	b.ReportMetric(float64(tokens)/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkTimingError measures the client's timing against a fixed-cadence server (TTFT
// 50 ms, a token every 10 ms, 128 tokens: 1.32 s a request), compared with the times the
// server recorded for each chunk it wrote (just before the write). Streams either all start
// at once and stay in step (start=burst: every 1.32 s the whole population ends and starts
// again within a few milliseconds, the worst case), or are spread over one request's length
// (start=staggered: users spawned at streams/1.32 s, the steady state of a serving
// benchmark). As in a real run, requests that end in the 1.5 s warm-up are left out of the
// main figures; "all-" figures include them; "after-write-" figures measure from the end of
// the server's write instead, a lower bound when the server was itself slow to write.
func BenchmarkTimingError(b *testing.B) {
	base, separate := startCadenceServer(b)
	const requestTime = 1320 * time.Millisecond
	for _, client := range benchClients() {
		for _, start := range []string{"burst", "staggered"} {
			for _, streams := range []int{1, 64, 256, 1024} {
				b.Run(fmt.Sprintf("%s/%s/start=%s/streams=%d", serverTag(separate), clientTag(client), start, streams), func(b *testing.B) {
					var measured, all, lower timingErrors
					var cores, wake float64
					for b.Loop() {
						cfg := benchConfig(base + cadence{ttft: 50 * time.Millisecond, itl: 10 * time.Millisecond, tokens: 128}.path())
						cfg.Concurrency, cfg.Warmup, cfg.RunTime, cfg.Client = streams, 1500*time.Millisecond, 3*time.Second, client
						if start == "staggered" {
							cfg.Mode, cfg.Users, cfg.SpawnRate = loadspec.ModeUsers, streams, float64(streams)/requestTime.Seconds()
						}
						sum, rows, mono, wall := benchRun(b, cfg)
						writes := fetchWrites(b, base)
						all.add(compareTimes(rows, writes, mono, wall, false))
						rows = slices.DeleteFunc(rows, func(r results.Request) bool { return r.Phase == results.PhaseWarmup })
						measured.add(compareTimes(rows, writes, mono, wall, false))
						lower.add(compareTimes(rows, writes, mono, wall, true))
						cores, wake = max(cores, sum.ClientCores), max(wake, sum.WakeLag.P99)
					}
					if all.missing > 0 {
						b.Errorf("%d requests without server times", all.missing)
					}
					measured.report(b, "")
					all.report(b, "all-")
					lower.report(b, "after-write-") // against the end of the server's write: a lower bound
					b.ReportMetric(cores, "client-cores")
					b.ReportMetric(wake, "wake-lag-p99-ms") // the machine's noise floor during the run
				})
			}
		}
	}
}

// BenchmarkBurstStart measures what a burst start costs the first requests' TTFT: 1,024
// streams all start at once against the fixed-cadence server (TTFT 50 ms), and the client's
// TTFT p99 is compared with the server's own (from the moment its handler began to its first
// write), every request of the run counted, the first wave included (no warm-up). Variants:
// no connections opened ahead (each request dials, inside its TTFT), connections opened ahead
// (connect_rate), and opened ahead with the first requests spread over a 100 ms ramp.
//
//	LLMSCALE_BENCH_SERVER_CPU=1 taskset -c 0 /tmp/loadgen.test -test.run '^$' \
//	    -test.bench BurstStart -test.benchtime 1x -test.count 3
func BenchmarkBurstStart(b *testing.B) {
	base, separate := startCadenceServer(b)
	variants := []struct {
		name string
		rate float64
		ramp time.Duration
	}{{"preconnect=off", NoPreconnect, 0}, {"preconnect=on", 0, 0}, {"preconnect=on/ramp=100ms", 0, 100 * time.Millisecond}}
	for _, client := range benchClients() {
		for _, streams := range []int{256, 1024} {
			for _, v := range variants {
				name := fmt.Sprintf("%s/%s/streams=%d/%s", serverTag(separate), clientTag(client), streams, v.name)
				b.Run(name, func(b *testing.B) {
					var seen, server, excess, connect []float64
					for b.Loop() {
						cfg := benchConfig(base + cadence{ttft: 50 * time.Millisecond, itl: 10 * time.Millisecond, tokens: 128}.path())
						cfg.Concurrency, cfg.RunTime, cfg.Client, cfg.ConnectRate, cfg.StartRamp = streams, 3*time.Second, client, v.rate, v.ramp
						_, rows, _, _ := benchRun(b, cfg)
						c, s, e, k := serverTTFT(rows, fetchWrites(b, base))
						seen, server, excess, connect = append(seen, c...), append(server, s...), append(excess, e...), append(connect, k...)
					}
					for _, v := range [][]float64{seen, server, excess, connect} {
						slices.Sort(v)
					}
					b.ReportMetric(stats.Percentile(seen, 99)-stats.Percentile(server, 99), "ttft-p99-excess-ms")
					b.ReportMetric(stats.Percentile(seen, 99), "ttft-p99-ms")
					b.ReportMetric(stats.Percentile(server, 99), "server-ttft-p99-ms")
					b.ReportMetric(stats.Percentile(excess, 50), "ttft-err-p50-ms")
					b.ReportMetric(stats.Percentile(excess, 99), "ttft-err-p99-ms")
					b.ReportMetric(stats.Percentile(connect, 99), "connect-p99-ms")
					b.ReportMetric(float64(len(seen)), "requests")
				})
			}
		}
	}
}

// serverTTFT pairs each successful record with the server's own TTFT (first write − handler
// start): client TTFT, server TTFT, their difference, and the record's connect time, in ms.
func serverTTFT(rows []results.Request, writes map[string]chunkTimes) (client, server, excess, connect []float64) {
	for _, r := range rows {
		w, ok := writes[r.ResponseID]
		if !r.OK() || !ok || len(w.Before) == 0 {
			continue
		}
		s := ms(w.Before[0] - w.Arrived)
		client, server = append(client, ms(r.TTFTNs)), append(server, s)
		excess, connect = append(excess, ms(r.TTFTNs)-s), append(connect, ms(r.ConnectNs))
	}
	return client, server, excess, connect
}

func (e *timingErrors) add(o timingErrors) {
	e.ttft, e.itl, e.missing = append(e.ttft, o.ttft...), append(e.itl, o.itl...), e.missing+o.missing
}

func (e *timingErrors) report(b *testing.B, prefix string) {
	slices.Sort(e.ttft)
	slices.Sort(e.itl)
	if len(e.ttft) == 0 || len(e.itl) == 0 {
		b.Fatalf("no %stimings", prefix)
	}
	b.ReportMetric(stats.Percentile(e.ttft, 50), prefix+"ttft-err-p50-ms")
	b.ReportMetric(stats.Percentile(e.ttft, 99), prefix+"ttft-err-p99-ms")
	b.ReportMetric(stats.Percentile(e.itl, 50), prefix+"itl-err-p50-ms")
	b.ReportMetric(stats.Percentile(e.itl, 99), prefix+"itl-err-p99-ms")
	b.ReportMetric(float64(len(e.ttft)), prefix+"requests")
}

// BenchmarkOpenLoop measures how well the open-loop schedule is kept with streaming requests
// (Poisson arrivals; each request streams 16 tokens 1 ms apart): achieved rate against the
// schedule's, and the send lag.
func BenchmarkOpenLoop(b *testing.B) {
	base, separate := startCadenceServer(b)
	for _, client := range benchClients() {
		for _, rate := range []float64{500, 1000, 2000} {
			b.Run(fmt.Sprintf("%s/%s/rate=%g", serverTag(separate), clientTag(client), rate), func(b *testing.B) {
				var lag []float64
				var rateErr, cores, wake float64
				for b.Loop() {
					cfg := benchConfig(base + cadence{ttft: time.Millisecond, itl: time.Millisecond, tokens: 16}.path())
					cfg.Mode, cfg.Rate, cfg.Arrival, cfg.Client = loadspec.ModeRate, rate, schedule.KindPoisson, client
					if os.Getenv("LLMSCALE_BENCH_WAITER") == "timer" {
						cfg.Waiter = TimerWaiter{}
					}
					cfg.Warmup, cfg.RunTime, cfg.Cooldown = time.Second, 10*time.Second, time.Second
					sum, rows, _, _ := benchRun(b, cfg)
					for _, r := range rows {
						if r.Phase == results.PhaseMeasure && r.SentNs > 0 {
							lag = append(lag, ms(r.SentNs-r.DueNs))
						}
					}
					rateErr = max(rateErr, math.Abs(sum.AchievedRate/sum.ScheduledRate-1))
					cores, wake = max(cores, sum.ClientCores), max(wake, sum.WakeLag.P99)
					if f := sum.Failed; f > 0 {
						b.Errorf("%d requests failed: %v", f, sum.FirstErrors)
					}
					_ = fetchWrites(b, base)
				}
				slices.Sort(lag)
				b.ReportMetric(100*rateErr, "rate-err-%")
				b.ReportMetric(stats.Percentile(lag, 50), "lag-p50-ms")
				b.ReportMetric(stats.Percentile(lag, 99), "lag-p99-ms")
				b.ReportMetric(lag[len(lag)-1], "lag-max-ms")
				b.ReportMetric(cores, "client-cores")
				b.ReportMetric(wake, "wake-lag-p99-ms")
			})
		}
	}
}
