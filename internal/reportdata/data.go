// Package reportdata is what a report shows: the Data value that package resultstree reads
// from a results tree and package report draws as an HTML page and static figures, with the
// samplers that keep it small whatever the campaign (CDFFromSamples, DownsampleTimeline, the
// fitted curves). It reads no file and draws nothing; Data round-trips through JSON.
package reportdata

import (
	"encoding/json"
	"math"
	"time"
)

// Data is everything the report shows. It is a plain value: drawing it needs nothing of the
// results tree, and Data round-trips through JSON (NaN is not a JSON
// number: optional numbers are *float64, nil when absent, and Values writes NaN as null).
//
// Units: throughput in output tokens/s (per GPU, per user: the same unit divided), request
// rates in requests/s, latencies in milliseconds, time offsets in seconds, ratios in [0, 1],
// GPU utilisation in percent.
type Data struct {
	Campaign    Campaign     `json:"campaign"`
	Series      []Series     `json:"series"`
	Experiments []Experiment `json:"experiments"`
	LoadCurves  []LoadCurve  `json:"load_curves"`
	// Pareto is tokens/s per GPU against tokens/s per user, one point per experiment; when it
	// is empty the report derives it from the experiments' summaries (ParetoFromExperiments).
	Pareto []ParetoPoint `json:"pareto,omitempty"`
}

// Campaign says what ran, where and when.
type Campaign struct {
	Name   string `json:"name"`
	Model  string `json:"model"`
	Engine string `json:"engine"`
	// GPUs names every GPU of the machine(s), one entry per device (the report groups equal
	// names: "8 × NVIDIA H100 80GB HBM3").
	GPUs []string `json:"gpus"`
	// Interconnect summarises the topology, e.g. "NVLink (NV18) between all pairs".
	Interconnect string `json:"interconnect"`
	// Versions are the tool's, the server's and any other relevant versions, in display order.
	Versions   []NameValue `json:"versions"`
	Host       string      `json:"host"`
	MatrixFile string      `json:"matrix_file"`
	MatrixYAML string      `json:"matrix_yaml"`
	Start      time.Time   `json:"start"`
	End        time.Time   `json:"end"`
	// Planned is the number of experiments of the plan (0: unknown); Done and Failed count
	// those that ended.
	Planned int `json:"planned"`
	Done    int `json:"done"`
	Failed  int `json:"failed"`
}

// NameValue is one labelled value, e.g. a version ("vllm", "0.9.1").
type NameValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Series is one scaling series: the saturation throughput of one configuration (strategy,
// prompt set, output length…) at several GPU counts, and the fits.
type Series struct {
	// Name labels the series, e.g. "TP-only · medium · 128 tok".
	Name      string `json:"name"`
	Strategy  string `json:"strategy"` // "tp", "dp", "mixed"… as the fit table says
	Prompts   string `json:"prompts"`
	MaxTokens int    `json:"max_tokens"`
	// Points are per GPU count, smallest first.
	Points []SeriesPoint `json:"points"`
	// Baseline is the smallest GPU count (N0); speedup is X(N)/X(N0) and ideal N/N0.
	Baseline int `json:"baseline"`
	// Amdahl is nil when it could not be fitted.
	Amdahl *AmdahlFit `json:"amdahl,omitempty"`
	USL    USLFit     `json:"usl"`
	// KarpFlattTrend is "rising", "flat", "falling" or "unknown"; KarpFlattReason says why
	// when unknown (or any caveat).
	KarpFlattTrend  string  `json:"karp_flatt_trend"`
	KarpFlattReason string  `json:"karp_flatt_reason,omitempty"`
	Verdict         Verdict `json:"verdict"`
}

// SeriesPoint is one GPU count of a series.
type SeriesPoint struct {
	GPUs int `json:"gpus"`
	// Throughput is the mean saturation output throughput over repeats, tokens/s; SD its
	// sample standard deviation (nil with one repeat).
	Throughput float64  `json:"throughput_tps"`
	SD         *float64 `json:"sd_tps,omitempty"`
	Repeats    int      `json:"repeats"`
	// Saturated is false when the campaign did not find the server's saturation at this GPU
	// count: the throughput is then a lower bound, and the report says so.
	Saturated  bool    `json:"saturated"`
	Speedup    float64 `json:"speedup"`
	Efficiency float64 `json:"efficiency"`
	// KarpFlatt is e(N); nil at the baseline or when it could not be computed.
	KarpFlatt *float64 `json:"karp_flatt,omitempty"`
	// RequestThroughput and Goodput are the point's experiments' completed and SLO-meeting
	// requests/s (means over repeats); Goodput is nil without SLOs.
	RequestThroughput float64  `json:"request_rps,omitempty"`
	Goodput           *float64 `json:"goodput_rps,omitempty"`
	// ExpIDs are the experiments behind the point (the saturation experiment of each repeat);
	// the latency CDFs of the series are drawn from the first.
	ExpIDs []string `json:"exp_ids,omitempty"`
}

// AmdahlFit is X(N) = X1·N / (1 + s(N−1)) fitted to a series.
type AmdahlFit struct {
	S float64 `json:"s"`
	// SLo and SHi bound s (95 % interval unless Confidence says otherwise); nil when no
	// interval could be made.
	SLo        *float64 `json:"s_lo,omitempty"`
	SHi        *float64 `json:"s_hi,omitempty"`
	Confidence float64  `json:"confidence"` // e.g. 0.95
	X1         float64  `json:"x1_tps"`
	R2         *float64 `json:"r2,omitempty"`
	// Curve is the fitted X(N) sampled from 1 GPU to a little beyond the largest count.
	Curve []XY `json:"curve"`
}

// USLFit is Gunther's Universal Scalability Law fitted to a series, or why it was not.
type USLFit struct {
	Fitted bool    `json:"fitted"`
	Reason string  `json:"reason,omitempty"` // why not fitted
	Sigma  float64 `json:"sigma,omitempty"`
	Kappa  float64 `json:"kappa,omitempty"`
	Lambda float64 `json:"lambda,omitempty"`
	// Peak is N* (0: no peak).
	Peak  float64 `json:"peak,omitempty"`
	Curve []XY    `json:"curve,omitempty"`
}

// XY is one point of a curve.
type XY struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// Verdict is a conclusion in one sentence and the evidence behind it.
type Verdict struct {
	// Code is package diagnose's verdict code, e.g. "kv_cache", "not_saturated", "tp_communication";
	// the report colours verdicts by it. Label is its human name ("KV cache full").
	Code     string     `json:"code"`
	Label    string     `json:"label"`
	Sentence string     `json:"sentence"`
	Evidence []Evidence `json:"evidence,omitempty"`
}

// Evidence is one measured fact behind a verdict, already formatted for display.
type Evidence struct {
	Name      string `json:"name"`      // e.g. "KV-cache usage p95"
	Value     string `json:"value"`     // e.g. "0.98"
	Threshold string `json:"threshold"` // e.g. "≥ 0.95"
	// Holds says whether the value meets the threshold (supports the verdict).
	Holds bool `json:"holds"`
}

// Experiment statuses the report distinguishes (others are shown as written).
const (
	StatusDone   = "done"
	StatusFailed = "failed"
)

// Experiment is one combination of the matrix and what it measured.
type Experiment struct {
	ID      string  `json:"exp_id"`
	Factors Factors `json:"factors"`
	// Config names its server configuration (the load curves group by it), e.g.
	// "TP=2 DP=1 · max-num-seqs 256".
	Config string `json:"config"`
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"` // why it failed
	// Summary is nil when the experiment produced no measurements.
	Summary   *Summary `json:"summary,omitempty"`
	Diagnosis *Verdict `json:"diagnosis,omitempty"`
	// Latency CDFs, each at most MaxCDFPoints quantiles (CDFFromSamples makes them).
	TTFT CDF `json:"ttft_cdf"`
	ITL  CDF `json:"itl_cdf"`
	E2E  CDF `json:"e2e_cdf"`
	// Timeline is nil when no server metrics were recorded.
	Timeline *Timeline `json:"timeline,omitempty"`
	// Phases is nil without server spans (telemetry.traces).
	Phases *Phases `json:"phases,omitempty"`
}

// Factors are the levels an experiment ran with (0 or "" when not set).
type Factors struct {
	GPUs        int     `json:"gpus"`
	TP          int     `json:"tp"`
	DP          int     `json:"dp"`
	PP          int     `json:"pp"`
	Mode        string  `json:"mode"` // users | concurrency | rate
	Users       int     `json:"users,omitempty"`
	Concurrency int     `json:"concurrency,omitempty"`
	Rate        float64 `json:"rate,omitempty"` // requests/s
	Prompts     string  `json:"prompts"`
	MaxTokens   int     `json:"max_tokens"`
	BatchSize   int     `json:"batch_size,omitempty"` // --max-num-seqs (0: engine default)
	MBT         int     `json:"mbt,omitempty"`        // --max-num-batched-tokens (0: default)
	Repeat      int     `json:"repeat"`
}

// Summary holds an experiment's headline numbers.
type Summary struct {
	Completed int `json:"completed"`
	Errors    int `json:"errors"`
	// RequestThroughput in requests/s; OutputThroughput in output tokens/s, also per GPU and
	// per user (tokens/s a single stream sees: output tokens / (E2E − TTFT) on average).
	RequestThroughput      float64  `json:"request_throughput_rps"`
	OutputThroughput       float64  `json:"output_throughput_tps"`
	OutputThroughputPerGPU float64  `json:"output_throughput_per_gpu_tps"`
	TokensPerUser          float64  `json:"tokens_per_user_tps"`
	TTFT                   Latency  `json:"ttft_ms"`
	TPOT                   Latency  `json:"tpot_ms"`
	ITL                    Latency  `json:"itl_ms"`
	E2E                    Latency  `json:"e2e_ms"`
	Goodput                *float64 `json:"goodput_rps,omitempty"` // nil without SLOs
	Saturated              bool     `json:"saturated"`
}

// Latency is a latency distribution's summary, in milliseconds.
type Latency struct {
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
}

// CDF is a latency distribution as quantiles: P[i] of the requests took at most Ms[i]
// milliseconds. P ascends in (0, 1].
type CDF struct {
	P  Values `json:"p,omitempty"`
	Ms Values `json:"ms,omitempty"`
}

// Timeline is an experiment's server state over time, at most MaxTimelinePoints samples.
// Every column has len(OffsetS) values; a column may be nil when its source recorded nothing
// (GPUUtil without GPU telemetry), and NaN marks a missing sample.
type Timeline struct {
	OffsetS     Values   `json:"offset_s"`                 // seconds from the experiment's start
	Running     Values   `json:"running"`                  // requests running
	Waiting     Values   `json:"waiting"`                  // requests waiting
	KVUsage     Values   `json:"kv_usage"`                 // KV-cache usage ratio, 0..1
	GPUUtil     Values   `json:"gpu_util,omitempty"`       // GPU utilisation %, mean over GPUs
	RequestRate Values   `json:"request_rate"`             // requests completed per second
	MeasureFrom *float64 `json:"measure_from_s,omitempty"` // the measured window, seconds
	MeasureTo   *float64 `json:"measure_to_s,omitempty"`
	// RequestRateSource says where RequestRate comes from: RateFromRequests (the request
	// files; also when empty) or RateFromServer (the server's completion counter, where the
	// request files are missing).
	RequestRateSource string `json:"request_rate_source,omitempty"`
	// BatchCap is the total batch cap in force (max-num-seqs × engines), 0 when unknown; the
	// running chart marks it.
	BatchCap int `json:"batch_cap,omitempty"`
}

// Where a timeline's request rate comes from (Timeline.RequestRateSource).
const (
	RateFromRequests = "requests" // the request files' end times
	RateFromServer   = "server"   // the server's vllm:request_success_total counter
)

// LoadCurve is one server configuration under increasing load.
type LoadCurve struct {
	Config string `json:"config"`
	// LoadKind is what the load level counts: "users", "concurrency", "rate" (requests/s) or
	// "sweep" (requests/s: a sweep's rates, and the throughput of its sync and throughput points).
	LoadKind string      `json:"load_kind"`
	Points   []LoadPoint `json:"points"` // ascending load
	// Saturation is the load level where throughput stops growing, the knee of the curve
	// (knee.go); nil when the campaign did not reach it.
	Saturation *float64 `json:"saturation,omitempty"`
	// SaturationReason says where the knee is and why, or why the curve has none.
	SaturationReason string `json:"saturation_reason,omitempty"`
}

// LoadPoint is one load level of a configuration (means over repeats).
type LoadPoint struct {
	Load       float64 `json:"load"`
	Throughput float64 `json:"throughput_tps"`
	TTFTP50    float64 `json:"ttft_p50_ms"`
	TPOTP50    float64 `json:"tpot_p50_ms"`
	ExpID      string  `json:"exp_id,omitempty"`
	// RequestThroughput is completed requests/s; Goodput those that met every SLO (nil
	// without SLOs).
	RequestThroughput float64  `json:"request_rps,omitempty"`
	Goodput           *float64 `json:"goodput_rps,omitempty"`
}

// ParetoPoint is one experiment in the throughput/interactivity plane.
type ParetoPoint struct {
	ExpID   string  `json:"exp_id"`
	Config  string  `json:"config"`
	GPUs    int     `json:"gpus"`
	PerGPU  float64 `json:"per_gpu_tps"`  // output tokens/s per GPU
	PerUser float64 `json:"per_user_tps"` // output tokens/s per user
}

// Values is a column of numbers whose JSON form writes NaN and ±Inf as null (a gap), and reads
// null back as NaN.
type Values []float64

// MarshalJSON writes the values, null for NaN and ±Inf.
func (v Values) MarshalJSON() ([]byte, error) {
	if v == nil {
		return []byte("null"), nil
	}
	out := make([]*float64, len(v))
	for i := range v {
		out[i] = Opt(v[i])
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads numbers and nulls (as NaN).
func (v *Values) UnmarshalJSON(b []byte) error {
	var in []*float64
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	if in == nil {
		*v = nil
		return nil
	}
	out := make(Values, len(in))
	for i, p := range in {
		out[i] = math.NaN()
		if p != nil {
			out[i] = *p
		}
	}
	*v = out
	return nil
}

// Opt returns a pointer to v, or nil when v is NaN or ±Inf: the way to fill an optional number
// from a computation that uses NaN for "none".
func Opt(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}
