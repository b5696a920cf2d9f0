package promscrape

import (
	"math"
	"slices"

	"github.com/llmscale/llmscale/internal/results"
)

// Summary is what the aggregation takes from one experiment's server metrics, in the
// engine-neutral quantities of Sources (vLLM, SGLang, llama.cpp, TGI). Token and request
// counts are increases over the window (before → after snapshot) summed across DP ranks and
// replicas; times are means per request in seconds from histogram deltas; gauges are over the
// grid scrapes, summed across ranks and replicas on one shared grid. A quantity that no
// metric of the scrape gives is NaN (gauges: Scrapes 0) and is listed in Missing: missing
// evidence, never 0.
type Summary struct {
	PromptTokens     float64            // Δ prompt tokens (QPromptTokens)
	GenerationTokens float64            // Δ generated tokens (QGenerationTokens)
	Preemptions      float64            // Δ preemptions (QPreemptions)
	RequestsFinished float64            // Δ finished requests, all reasons (QRequestsFinished)
	RequestsByReason map[string]float64 // Δ vllm:request_success_total by finished_reason
	PrefixCacheHits  float64            // Δ vllm:prefix_cache_hits_total (tokens)
	PrefixQueries    float64            // Δ vllm:prefix_cache_queries_total (tokens)

	MeanQueueS       float64 // QQueueTime Δsum/Δcount
	MeanPrefillS     float64 // QPrefillTime
	MeanDecodeS      float64 // QDecodeTime
	MeanInferenceS   float64 // QInferenceTime
	MeanE2ES         float64 // QE2E
	MeanTTFTS        float64 // QTTFT
	MeanITLS         float64 // QITL (per engine output)
	MeanIterTokens   float64 // QStepTokens: tokens per engine step (else Δtokens ÷ Δsteps)
	EngineIterations float64 // QEngineSteps: engine steps

	Running      GaugeStats // QRunning summed across engines and replicas per grid instant
	Waiting      GaugeStats // QWaiting summed likewise
	KVCacheUsage GaugeStats // QKVUsage averaged across engines per grid instant
	// KVCacheUsageMax is the highest single engine's usage in any scrape: one full rank can
	// preempt while the average looks fine.
	KVCacheUsageMax float64

	Config Config

	// Families are the engine families whose metrics the scrapes held (vllm, sglang, …).
	Families []string
	// Sources gives, for each quantity found, the metric it was read from.
	Sources map[Quantity]string
	// Missing lists the quantities no metric gave, in Quantities order.
	Missing []Quantity

	Restarts      int  // scrapes at which counters went down: server restarts in the window
	Exact         bool // both snapshots succeeded
	Scrapes       int  // grid scrapes, failed ones included
	FailedScrapes int
}

// Summarize computes the Summary of one experiment's rows.
func Summarize(rows []results.ServerMetric) Summary {
	w := NewWindow(rows)
	s := Summary{Exact: w.beforeOK && w.afterOK, Scrapes: w.grid, FailedScrapes: w.gridFailed,
		Families: w.Families(), Sources: map[Quantity]string{}}
	for _, c := range []struct {
		q   Quantity
		dst *float64
	}{
		{QPromptTokens, &s.PromptTokens}, {QGenerationTokens, &s.GenerationTokens}, {QPreemptions, &s.Preemptions},
		{QRequestsFinished, &s.RequestsFinished}, {QEngineSteps, &s.EngineIterations},
		{QQueueTime, &s.MeanQueueS}, {QPrefillTime, &s.MeanPrefillS}, {QDecodeTime, &s.MeanDecodeS},
		{QInferenceTime, &s.MeanInferenceS}, {QE2E, &s.MeanE2ES}, {QTTFT, &s.MeanTTFTS}, {QITL, &s.MeanITLS},
		{QStepTokens, &s.MeanIterTokens},
	} {
		*c.dst = s.read(w, c.q)
	}
	s.PrefixCacheHits = w.increaseOrNaN(MetricPrefixHits)
	s.PrefixQueries = w.increaseOrNaN(MetricPrefixQueries)
	s.RequestsByReason = w.IncreaseBy(MetricRequestSuccess, "finished_reason")
	if math.IsNaN(s.MeanIterTokens) && s.EngineIterations > 0 {
		s.MeanIterTokens = (s.PromptTokens + s.GenerationTokens) / s.EngineIterations // NaN unless both are known
		if !math.IsNaN(s.MeanIterTokens) {
			s.Sources[QStepTokens] = "(prompt + generated tokens) ÷ engine steps"
			s.Missing = slices.DeleteFunc(s.Missing, func(q Quantity) bool { return q == QStepTokens })
		}
	}
	s.Running = s.gauge(w, QRunning, SumAcross)
	s.Waiting = s.gauge(w, QWaiting, SumAcross)
	s.KVCacheUsage = s.gauge(w, QKVUsage, MeanAcross)
	s.KVCacheUsageMax = math.NaN()
	if src, ok := w.Source(QKVUsage); ok {
		s.KVCacheUsageMax = w.maxSeries(src.Metric)
	}
	s.Config = w.Config()
	s.Restarts = w.Restarts()
	order := Quantities()
	slices.SortFunc(s.Missing, func(a, b Quantity) int { return slices.Index(order, a) - slices.Index(order, b) })
	return s
}

// read gives quantity q from its first source in the window, NaN (and q in Missing) without one.
func (s *Summary) read(w *Window, q Quantity) float64 {
	src, ok := w.Source(q)
	if !ok {
		s.Missing = append(s.Missing, q)
		return math.NaN()
	}
	s.Sources[q] = src.Metric
	switch src.Kind {
	case FromHistogramMean:
		m, _, _ := w.HistogramMean(src.Metric, nil)
		return m
	default:
		return w.Increase(src.series(), nil).Value
	}
}

func (s *Summary) gauge(w *Window, q Quantity, across Across) GaugeStats {
	src, ok := w.Source(q)
	if !ok {
		s.Missing = append(s.Missing, q)
		return GaugeStats{Mean: math.NaN(), Max: math.NaN()}
	}
	s.Sources[q] = src.Metric
	return w.Gauge(src.Metric, nil, across)
}

// increaseOrNaN is the increase of counter name, NaN when the window has no such series.
func (w *Window) increaseOrNaN(name string) float64 {
	if len(w.series[name]) == 0 {
		return math.NaN()
	}
	return w.Increase(name, nil).Value
}

// maxSeries is the largest value of any one series of name in the grid scrapes.
func (w *Window) maxSeries(name string) float64 {
	m := math.NaN()
	for _, s := range w.series[name] {
		for _, p := range s.points {
			if p.at.phase == 1 && !math.IsNaN(p.value) && (math.IsNaN(m) || p.value > m) {
				m = p.value
			}
		}
	}
	return m
}
