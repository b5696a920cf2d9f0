package sim

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Benchmarks of the simulator's cost; figures and machines are in docs/performance.md.
//
//	go test ./internal/sim -run '^$' -bench . -benchmem -count 6 | tee new.txt
//	taskset -c 1 go test ./internal/sim -run '^$' -bench 'EngineStep|Simulate|Encoder' -benchmem -count 6
//
// BenchmarkHTTPStreams drives a server in the same process (server and client share the
// CPU), or the one at $LLMSCALE_SIM_URL, so the server can be pinned apart:
//
//	taskset -c 1 llmscale sim --port 8123 --fixed-ttft 0 --fixed-itl 0 &
//	LLMSCALE_SIM_URL=http://127.0.0.1:8123 taskset -c 0 go test ./internal/sim -run '^$' -bench HTTPStreams -benchtime 5x
//
// $LLMSCALE_SIM_STREAMS (e.g. "1024,4096") overrides the numbers of concurrent streams.

// BenchmarkEngineStep is the cost of one engine step with seqs sequences decoding, API-server
// output handling and delivery included.
func BenchmarkEngineStep(b *testing.B) {
	for _, seqs := range []int{64, 256, 1024} {
		b.Run(fmt.Sprintf("seqs=%d", seqs), func(b *testing.B) {
			eff, err := Resolve(Config{MaxNumSeqs: seqs})
			if err != nil {
				b.Fatal(err)
			}
			obs := &countingObserver{}
			c := NewCluster(eff.ClusterConfig(), obs)
			for range seqs {
				c.Submit(&Request{Prompt: 16, MaxTokens: 256, Output: 256}, 0)
			}
			for c.Engine(0).Running < seqs || obs.steps < 3 {
				t, _ := c.Next()
				c.AdvanceTo(t)
			}
			b.ReportAllocs()
			start := obs.steps
			for b.Loop() {
				for before := obs.steps; obs.steps == before; {
					t, _ := c.Next()
					c.AdvanceTo(t)
					for ; obs.done > 0; obs.done-- { // keep seqs sequences in flight
						c.Submit(&Request{Prompt: 16, MaxTokens: 256, Output: 256}, t)
					}
				}
			}
			b.ReportMetric(float64(obs.steps-start)/b.Elapsed().Seconds(), "steps/s")
			b.ReportMetric(float64(obs.tokens)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}

type countingObserver struct{ steps, tokens, done int }

func (o *countingObserver) Deliver(_ *Request, n int, done bool, _ time.Duration) {
	o.tokens += n
	if done {
		o.done++
	}
}
func (o *countingObserver) Step(int, int, time.Duration, time.Duration) { o.steps++ }
func (o *countingObserver) Preempt(int, *Request)                       {}

// BenchmarkSimulate is the planning view's speed: how many simulated seconds of a closed-loop
// load one wall-clock second computes.
func BenchmarkSimulate(b *testing.B) {
	for _, conc := range []int{64, 1024} {
		b.Run(fmt.Sprintf("concurrency=%d", conc), func(b *testing.B) {
			w := Workload{Concurrency: conc, PromptTokens: 500, OutputTokens: 200, Duration: 60 * time.Second}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Simulate(Config{}, w); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(60*float64(b.N)/b.Elapsed().Seconds(), "sim-s/s")
		})
	}
}

// BenchmarkEncoder is the cost of building one streamed chunk.
func BenchmarkEncoder(b *testing.B) {
	for _, kind := range []apiKind{apiCompletions, apiChat} {
		b.Run(fmt.Sprintf("chat=%v", kind == apiChat), func(b *testing.B) {
			e := newEncoder(kind, "cmpl-0123456789abcdef0123456789abcdef", 1700000000, DefaultModel, 100, false)
			b.SetBytes(int64(len(e.content(1, ""))))
			b.ReportAllocs()
			for b.Loop() {
				e.content(1, "")
			}
		})
	}
}

// BenchmarkHTTPStreams streams responses of 128 tokens to streams concurrent clients over
// loopback; one op is one round of every stream. With the default fixed cadence of 0/0 the
// server writes as fast as it can.
func BenchmarkHTTPStreams(b *testing.B) {
	counts := []int{1, 64, 256, 1024}
	if env := os.Getenv("LLMSCALE_SIM_STREAMS"); env != "" {
		counts = counts[:0]
		for _, f := range strings.Split(env, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				b.Fatalf("LLMSCALE_SIM_STREAMS=%q: want a list of positive counts", env)
			}
			counts = append(counts, n)
		}
	}
	for _, streams := range counts {
		b.Run(fmt.Sprintf("streams=%d", streams), func(b *testing.B) {
			url := os.Getenv("LLMSCALE_SIM_URL")
			if url == "" {
				ts := startServer(b, Config{Cadence: &Cadence{}})
				url = ts.URL
			}
			benchStreams(b, url, streams, 128)
		})
	}
}

func benchStreams(b *testing.B, url string, streams, tokens int) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: streams, MaxConnsPerHost: streams}}
	defer client.CloseIdleConnections()
	body := fmt.Sprintf(`{"prompt":"hello","max_tokens":%d,"ignore_eos":true,"stream":true}`, tokens)
	before := scrapeURL(b, client, url)
	var chunks int64
	var mu sync.Mutex
	for b.Loop() {
		var wg sync.WaitGroup
		for range streams {
			wg.Go(func() {
				n := streamOnce(b, client, url, body)
				mu.Lock()
				chunks += n
				mu.Unlock()
			})
		}
		wg.Wait()
	}
	elapsed := b.Elapsed().Seconds()
	after := scrapeURL(b, client, url)
	b.ReportMetric(float64(chunks)/elapsed, "chunks/s")
	// Every response has exactly tokens tokens (ignore_eos); fewer chunks than tokens means
	// the server sent ready tokens together.
	b.ReportMetric(float64(b.N*streams*tokens)/elapsed, "tokens/s")
	cpu := after.value("process_cpu_seconds_total") - before.value("process_cpu_seconds_total")
	if chunks > 0 && cpu > 0 {
		// In-process this is server and client together; against $LLMSCALE_SIM_URL, the server.
		b.ReportMetric(cpu/float64(chunks)*1e6, "server-cpu-µs/chunk")
	}
	for _, q := range []float64{0.5, 0.99} {
		if v, ok := after.lagQuantile(before, q); ok {
			b.ReportMetric(v*1e3, fmt.Sprintf("lag-p%d-ms", int(q*100)))
		}
	}
}

// streamOnce reads one streamed response and returns its number of data lines.
func streamOnce(b *testing.B, client *http.Client, url, body string) int64 {
	resp, err := client.Post(url+"/v1/completions", "application/json", strings.NewReader(body))
	if err != nil {
		b.Error(err)
		return 0
	}
	defer resp.Body.Close()
	r := bufio.NewReaderSize(resp.Body, 16<<10)
	var n int64
	for {
		line, err := r.ReadSlice('\n')
		if bytes.HasPrefix(line, []byte("data: ")) {
			n++
		}
		if err == io.EOF {
			return n
		}
		if err != nil {
			b.Error(err)
			return n
		}
	}
}

type scraped map[string]*dto.MetricFamily

func scrapeURL(b *testing.B, client *http.Client, url string) scraped {
	resp, err := client.Get(url + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		b.Fatal(err)
	}
	return fams
}

func (s scraped) value(name string) float64 {
	f, ok := s[name]
	if !ok || len(f.Metric) == 0 {
		return 0
	}
	m := f.Metric[0]
	if m.Counter != nil {
		return m.Counter.GetValue()
	}
	return m.Gauge.GetValue()
}

// lagQuantile estimates a quantile of llmscale:sim_lag_seconds between two scrapes: the upper
// bound of the bucket it falls in.
func (s scraped) lagQuantile(before scraped, q float64) (float64, bool) {
	h := func(sc scraped) []*dto.Bucket {
		f, ok := sc["llmscale:sim_lag_seconds"]
		if !ok || len(f.Metric) == 0 {
			return nil
		}
		return f.Metric[0].Histogram.Bucket
	}
	a, z := h(before), h(s)
	if len(z) == 0 {
		return 0, false
	}
	total := float64(z[len(z)-1].GetCumulativeCount())
	if len(a) > 0 {
		total -= float64(a[len(a)-1].GetCumulativeCount())
	}
	if total <= 0 {
		return 0, false
	}
	for i, bk := range z {
		c := float64(bk.GetCumulativeCount())
		if len(a) > 0 {
			c -= float64(a[i].GetCumulativeCount())
		}
		if c >= q*total {
			return bk.GetUpperBound(), !math.IsInf(bk.GetUpperBound(), 1)
		}
	}
	return 0, false
}
