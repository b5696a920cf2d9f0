package loadgen

import (
	"encoding/json"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/stats"
)

// VLLMResultFile is the name of the result file in vllm bench serve's format, written beside
// summary.json by load and by every experiment.
const VLLMResultFile = "vllm_result.json"

// VLLMMetricNames are the metrics vLLM's --percentile-metrics may select.
func VLLMMetricNames() []string {
	return []string{"ttft", "tpot", "itl", "e2el", "client_queue_time", "e2el_including_client_queue"}
}

// VLLMOptions are what vllm bench serve writes beside its measurements, and which statistics
// it writes.
type VLLMOptions struct {
	Date           time.Time    // when the run ended; written as vLLM does, "20060102-150405" local time
	API            loadspec.API // completions → backend "openai", chat → "openai-chat"
	Label          string       // "" is null
	ModelID        string
	TokenizerID    string    // "" is null: llmscale counted no tokens with a tokenizer of its own
	NumPrompts     int       // the request limit (--num-prompts); 0: the requests of the window
	RequestRate    float64   // requests/s; +Inf (written "inf") for a closed loop, as vLLM
	Burstiness     float64   // +Inf (written "inf") for evenly spaced arrivals
	MaxConcurrency int       // 0 is null
	Metrics        []string  // vLLM's --percentile-metrics; nil: its default, ttft, tpot and itl
	Percentiles    []float64 // vLLM's --metric-percentiles; nil: its default, 99
	SLO            loadspec.SLO
	Detailed       bool           // the per-request arrays (--save-detailed)
	Metadata       map[string]any // extra keys (--metadata), e.g. exp_id
}

// VLLMResult is the run as vllm bench serve --save-result writes it: the same keys, units
// (seconds in the arrays, milliseconds in the statistics) and definitions, computed from the
// requests that ended in the measured window [from, to); requests never sent are left out,
// as vLLM has none. Metrics outside VLLMMetricNames are ignored.
func VLLMResult(rows []results.Request, from, to time.Duration, o VLLMOptions) map[string]any {
	reqs := vllmRequests(rows, from, to)
	doc := vllmHeader(o)
	for k, v := range o.Metadata {
		doc[k] = v
	}
	m := newVLLMMetrics(reqs, (to - from).Seconds(), o.SLO)
	m.fill(doc, o.SLO.Any())
	arrays := vllmArrays(reqs)
	peakTok, peakConc := vllmPeaks(reqs)
	doc["max_output_tokens_per_s"], doc["max_concurrent_requests"], doc["rtfx"] = pyFloat(peakTok), peakConc, pyFloat(0)
	if o.Detailed {
		for k, v := range arrays {
			doc[k] = v
		}
	}
	metrics, percentiles := o.Metrics, o.Percentiles
	if len(metrics) == 0 {
		metrics = []string{"ttft", "tpot", "itl"}
	}
	if len(percentiles) == 0 {
		percentiles = []float64{99}
	}
	for _, name := range metrics {
		if slices.Contains(VLLMMetricNames(), name) {
			addVLLMStat(doc, name, m.values[name], percentiles)
		}
	}
	return doc
}

// vllmRequests are the sent requests of the window, in the order they were sent.
func vllmRequests(rows []results.Request, from, to time.Duration) []*results.Request {
	var out []*results.Request
	for i := range rows {
		q := &rows[i]
		if q.ErrorKind == results.ErrorNotSent || q.EndNs < int64(from) || q.EndNs >= int64(to) {
			continue
		}
		out = append(out, q)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].StartUnixNs < out[j].StartUnixNs })
	return out
}

func vllmHeader(o VLLMOptions) map[string]any {
	backend := "openai"
	if o.API == loadspec.APIChat {
		backend = "openai-chat"
	}
	doc := map[string]any{"date": o.Date.Format("20060102-150405"), "endpoint_type": backend, "backend": backend,
		"label": nullString(o.Label), "model_id": o.ModelID, "tokenizer_id": nullString(o.TokenizerID),
		"burstiness": pyFloat(o.Burstiness), "max_concurrency": nil, "request_rate": pyFloat(o.RequestRate)}
	if math.IsInf(o.RequestRate, 1) || o.RequestRate <= 0 {
		doc["request_rate"] = "inf"
	}
	if math.IsInf(o.Burstiness, 1) { // evenly spaced arrivals; JSON has no inf, vLLM's readers take float("inf")
		doc["burstiness"] = "inf"
	}
	if o.MaxConcurrency > 0 {
		doc["max_concurrency"] = o.MaxConcurrency
	}
	if o.NumPrompts > 0 {
		doc["num_prompts"] = o.NumPrompts
	}
	return doc
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// vllmMetrics are vLLM's calculate_metrics over the window's requests.
type vllmMetrics struct {
	completed, failed, good            int
	input, output                      int64
	duration                           float64
	values                             map[string][]float64 // seconds, per metric name
	numPrompts                         int
	reqRate, goodput, outRate, totRate float64
}

func newVLLMMetrics(reqs []*results.Request, duration float64, slo loadspec.SLO) vllmMetrics {
	m := vllmMetrics{duration: duration, values: map[string][]float64{}, numPrompts: len(reqs)}
	sec := func(ns int64) float64 { return float64(ns) / 1e9 }
	for _, q := range reqs {
		queue := sec(q.SentNs - q.DueNs)
		m.values["client_queue_time"] = append(m.values["client_queue_time"], queue)
		if !q.OK() {
			m.failed++
			continue
		}
		m.completed++
		m.input += int64(q.PromptTokens)
		m.output += int64(q.OutputTokens)
		if q.OutputTokens > 1 {
			m.values["tpot"] = append(m.values["tpot"], sec(q.TPOTNs))
		}
		for _, g := range q.ITLNs {
			m.values["itl"] = append(m.values["itl"], sec(g))
		}
		m.values["ttft"] = append(m.values["ttft"], sec(q.TTFTNs))
		m.values["e2el"] = append(m.values["e2el"], sec(q.E2ENs))
		m.values["e2el_including_client_queue"] = append(m.values["e2el_including_client_queue"], sec(q.E2ENs)+queue)
		if slo.Any() && slo.Meets(q.TTFTNs, q.TPOTNs, q.E2ENs, q.OutputTokens) {
			m.good++
		}
	}
	if duration > 0 {
		m.reqRate, m.goodput = float64(m.completed)/duration, float64(m.good)/duration
		m.outRate, m.totRate = float64(m.output)/duration, float64(m.input+m.output)/duration
	}
	return m
}

func (m vllmMetrics) fill(doc map[string]any, withGoodput bool) {
	doc["duration"], doc["completed"], doc["failed"] = pyFloat(m.duration), m.completed, m.failed
	doc["total_input_tokens"], doc["total_output_tokens"] = m.input, m.output
	doc["request_throughput"], doc["request_goodput"] = pyFloat(m.reqRate), nil
	if withGoodput {
		doc["request_goodput"] = pyFloat(m.goodput)
	}
	doc["output_throughput"], doc["total_token_throughput"] = pyFloat(m.outRate), pyFloat(m.totRate)
	if _, ok := doc["num_prompts"]; !ok {
		doc["num_prompts"] = m.numPrompts
	}
}

// vllmArrays are the per-request arrays of --save-detailed, in seconds; a failed request has
// TTFT and latency 0, no gaps and no output, and its error.
func vllmArrays(reqs []*results.Request) map[string]any {
	n := len(reqs)
	in, out := make([]int32, n), make([]int32, n)
	ttfts, lat, start, queue := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	itls, texts, errs := make([][]pyFloat, n), make([]string, n), make([]string, n)
	for i, q := range reqs {
		in[i], start[i], queue[i] = q.PromptTokens, float64(q.SentNs)/1e9, float64(q.SentNs-q.DueNs)/1e9
		itls[i] = []pyFloat{}
		if !q.OK() {
			errs[i] = q.ErrorKind + ": " + q.Error
			continue
		}
		out[i], ttfts[i], lat[i] = q.OutputTokens, float64(q.TTFTNs)/1e9, float64(q.E2ENs)/1e9
		for _, g := range q.ITLNs {
			itls[i] = append(itls[i], pyFloat(float64(g)/1e9))
		}
	}
	return map[string]any{"input_lens": in, "output_lens": out, "ttfts": pyFloats(ttfts), "itls": itls,
		"latencies": pyFloats(lat), "start_times": pyFloats(start), "queue_times": pyFloats(queue),
		"generated_texts": texts, "errors": errs}
}

// vllmPeaks are vLLM's peak output tokens in one second (a token per chunk, by when it
// arrived) and the most requests in flight at once.
func vllmPeaks(reqs []*results.Request) (tokens float64, concurrent int) {
	type event struct{ at, delta int64 }
	var events []event
	var first int64 = math.MaxInt64
	for _, q := range reqs {
		if q.OK() {
			first = min(first, q.SentNs)
			events = append(events, event{q.SentNs, 1}, event{q.SentNs + q.E2ENs, -1})
		}
	}
	if len(events) == 0 {
		return 0, 0
	}
	perSecond := map[int64]float64{}
	for _, q := range reqs {
		if !q.OK() {
			continue
		}
		t := q.SentNs + q.TTFTNs
		perSecond[(t-first)/1e9]++
		for _, g := range q.ITLNs {
			t += g
			perSecond[(t-first)/1e9]++
		}
	}
	for _, v := range perSecond {
		tokens = max(tokens, v)
	}
	slices.SortFunc(events, func(a, b event) int {
		if a.at != b.at {
			return int(a.at - b.at)
		}
		return int(a.delta - b.delta) // an end before a start at the same instant: half-open
	})
	cur := 0
	for _, e := range events {
		cur += int(e.delta)
		concurrent = max(concurrent, cur)
	}
	return tokens, concurrent
}

// addVLLMStat writes mean_, median_, std_ and p<P>_<name>_ms as vLLM does: numpy's mean,
// population standard deviation, median and linear percentiles, 0 when there are no values.
func addVLLMStat(doc map[string]any, name string, seconds []float64, percentiles []float64) {
	v := make([]float64, len(seconds))
	for i, s := range seconds {
		v[i] = s * 1000
	}
	if len(v) == 0 {
		v = []float64{0}
	}
	st := stats.NewStat(v) // sorts v
	doc["mean_"+name+"_ms"], doc["median_"+name+"_ms"], doc["std_"+name+"_ms"] = pyFloat(st.Mean), pyFloat(st.Median), pyFloat(st.Std)
	for _, p := range percentiles {
		doc["p"+strconv.FormatFloat(p, 'f', -1, 64)+"_"+name+"_ms"] = pyFloat(stats.Percentile(v, p))
	}
}

// pyFloat is a float written as Python's json writes one: always with a fraction or an
// exponent (1.0, not 1), so that a reader of vLLM's files finds floats where vLLM writes them.
// A value that is not finite is null.
type pyFloat float64

// MarshalJSON implements json.Marshaler.
func (f pyFloat) MarshalJSON() ([]byte, error) {
	x := float64(f)
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return []byte("null"), nil
	}
	var s string
	if a := math.Abs(x); a != 0 && (a < 1e-4 || a >= 1e16) {
		s = strconv.FormatFloat(x, 'g', -1, 64)
	} else {
		s = strconv.FormatFloat(x, 'f', -1, 64)
	}
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return []byte(s), nil
}

func pyFloats(v []float64) []pyFloat {
	out := make([]pyFloat, len(v))
	for i, x := range v {
		out[i] = pyFloat(x)
	}
	return out
}

var _ json.Marshaler = pyFloat(0)
