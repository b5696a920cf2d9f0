package loadgen

import (
	"bytes"
	"cmp"
	"encoding/json"
	"math"
	"slices"
	"strconv"
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
// as vLLM has none. Metrics outside VLLMMetricNames are ignored. WriteVLLMResult writes the
// same document from request files without holding the records.
func VLLMResult(rows []results.Request, from, to time.Duration, o VLLMOptions) map[string]any {
	compact := make([]vllmRow, len(rows))
	for i := range rows {
		compact[i] = toVLLMRow(&rows[i])
	}
	return vllmDoc(compact, from, to, o)
}

// vllmDoc is VLLMResult of compact rows. Its per-request gaps ("itls") are a value that
// encodes itself, so that WriteVLLMResult streams them rather than copying them.
func vllmDoc(rows []vllmRow, from, to time.Duration, o VLLMOptions) map[string]any {
	reqs := vllmRequests(rows, from, to)
	doc := vllmHeader(o)
	for k, v := range o.Metadata {
		doc[k] = v
	}
	m := newVLLMMetrics(reqs, (to - from).Seconds(), o.SLO)
	m.fill(doc, o.SLO.Any())
	peakTok, peakConc := vllmPeaks(reqs)
	doc["max_output_tokens_per_s"], doc["max_concurrent_requests"], doc["rtfx"] = pyFloat(peakTok), peakConc, pyFloat(0)
	if o.Detailed {
		for k, v := range vllmArrays(reqs) {
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
		switch {
		case name == "itl":
			addVLLMGapStat(doc, reqs, percentiles)
		case slices.Contains(VLLMMetricNames(), name):
			addVLLMStat(doc, name, m.values[name], percentiles)
		}
	}
	return doc
}

// vllmRequests are the sent requests of the window, in the order they were sent (records
// sent at the same nanosecond by worker and sequence number).
func vllmRequests(rows []vllmRow, from, to time.Duration) []*vllmRow {
	var out []*vllmRow
	for i := range rows {
		q := &rows[i]
		if q.kind == results.ErrorNotSent || !q.endsIn(from, to) {
			continue
		}
		out = append(out, q)
	}
	slices.SortStableFunc(out, func(a, b *vllmRow) int {
		return cmp.Or(cmp.Compare(a.startUnix, b.startUnix), cmp.Compare(a.worker, b.worker), cmp.Compare(a.seq, b.seq))
	})
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
	values                             map[string][]float64 // seconds, per metric name (itl: see addVLLMGapStat)
	numPrompts                         int
	reqRate, goodput, outRate, totRate float64
}

func newVLLMMetrics(reqs []*vllmRow, duration float64, slo loadspec.SLO) vllmMetrics {
	m := vllmMetrics{duration: duration, values: map[string][]float64{}, numPrompts: len(reqs)}
	for _, name := range VLLMMetricNames() {
		if name != "itl" {
			m.values[name] = make([]float64, 0, len(reqs))
		}
	}
	sec := func(ns int64) float64 { return float64(ns) / 1e9 }
	for _, q := range reqs {
		queue := sec(q.sent - q.due)
		m.values["client_queue_time"] = append(m.values["client_queue_time"], queue)
		if !q.ok() {
			m.failed++
			continue
		}
		m.completed++
		m.input += int64(q.in)
		m.output += int64(q.out)
		if q.out > 1 {
			m.values["tpot"] = append(m.values["tpot"], sec(q.tpot))
		}
		m.values["ttft"] = append(m.values["ttft"], sec(q.ttft))
		m.values["e2el"] = append(m.values["e2el"], sec(q.e2e))
		m.values["e2el_including_client_queue"] = append(m.values["e2el_including_client_queue"], sec(q.e2e)+queue)
		if slo.Any() && slo.Meets(q.ttft, q.tpot, q.e2e, q.out) {
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
func vllmArrays(reqs []*vllmRow) map[string]any {
	n := len(reqs)
	in, out := make([]int32, n), make([]int32, n)
	ttfts, lat, start, queue := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	texts, errs := make([]string, n), make([]string, n)
	for i, q := range reqs {
		in[i], start[i], queue[i] = q.in, float64(q.sent)/1e9, float64(q.sent-q.due)/1e9
		if !q.ok() {
			errs[i] = q.kind + ": " + q.msg
			continue
		}
		out[i], ttfts[i], lat[i] = q.out, float64(q.ttft)/1e9, float64(q.e2e)/1e9
	}
	return map[string]any{"input_lens": in, "output_lens": out, "ttfts": pyFloats(ttfts), "itls": vllmGaps(reqs),
		"latencies": pyFloats(lat), "start_times": pyFloats(start), "queue_times": pyFloats(queue),
		"generated_texts": texts, "errors": errs}
}

// vllmPeaks are vLLM's peak output tokens in one second (a token per chunk, by when it
// arrived) and the most requests in flight at once.
func vllmPeaks(reqs []*vllmRow) (tokens float64, concurrent int) {
	type event struct{ at, delta int64 }
	events := make([]event, 0, 2*len(reqs))
	var first int64 = math.MaxInt64
	for _, q := range reqs {
		if q.ok() {
			first = min(first, q.sent)
			events = append(events, event{q.sent, 1}, event{q.sent + q.e2e, -1})
		}
	}
	if len(events) == 0 {
		return 0, 0
	}
	perSecond := map[int64]float64{}
	for _, q := range reqs {
		if !q.ok() {
			continue
		}
		t := q.sent + q.ttft
		perSecond[(t-first)/1e9]++
		q.itl.each(func(g int64) {
			t += g
			perSecond[(t-first)/1e9]++
		})
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
		doc[vllmPercentileKey(p, name)] = pyFloat(stats.Percentile(v, p))
	}
}

// pyFloat is a float written as Python's json writes one: always with a fraction or an
// exponent (1.0, not 1), so that a reader of vLLM's files finds floats where vLLM writes them.
// A value that is not finite is null.
type pyFloat float64

// MarshalJSON implements json.Marshaler.
func (f pyFloat) MarshalJSON() ([]byte, error) { return appendPyFloat(nil, float64(f)), nil }

// appendPyFloat appends x as Python's json writes it (see pyFloat).
func appendPyFloat(b []byte, x float64) []byte {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return append(b, "null"...)
	}
	start := len(b)
	if a := math.Abs(x); a != 0 && (a < 1e-4 || a >= 1e16) {
		b = strconv.AppendFloat(b, x, 'g', -1, 64)
	} else {
		b = strconv.AppendFloat(b, x, 'f', -1, 64)
	}
	if !bytes.ContainsAny(b[start:], ".e") {
		b = append(b, ".0"...)
	}
	return b
}

func pyFloats(v []float64) []pyFloat {
	out := make([]pyFloat, len(v))
	for i, x := range v {
		out[i] = pyFloat(x)
	}
	return out
}

var _ json.Marshaler = pyFloat(0)
