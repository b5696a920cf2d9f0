package promscrape

import (
	"math"
	"strconv"
)

// Across says how one scrape's series of a gauge combine into one value.
type Across int

const (
	// SumAcross adds the series: requests running or waiting over all DP ranks.
	SumAcross Across = iota
	// MeanAcross averages them: a fraction such as KV-cache usage, which cannot be summed.
	MeanAcross
)

// GaugeStats describe a gauge over the measured window: its per-scrape value (the series
// combined with Across) averaged and maximised over the grid scrapes that carry it.
type GaugeStats struct {
	Mean, Max float64 // NaN when Scrapes is 0
	Scrapes   int     // grid scrapes that carried the gauge
}

// Gauge gives the statistics of gauge name over the grid scrapes of the window (the before and
// after snapshots are not in the window), over the series that filter selects, combined per
// instant of one shared grid (OnGrid): the engines of several replicas are summed even when
// their scrapes were stamped milliseconds apart.
func (w *Window) Gauge(name string, filter Filter, across Across) GaugeStats {
	return StatsOf(OnGrid(w.GridSamples(name, filter), w.Step(), across))
}

// Step is the scrape interval: the median gap between consecutive grid scrapes of one server
// (failed scrapes included), 0 when the window has fewer than two.
func (w *Window) Step() int64 {
	var samples []GridSample
	for id, ts := range w.gridTimes {
		for _, t := range ts {
			samples = append(samples, GridSample{Series: id, TimeNs: t})
		}
	}
	if len(samples) < 2 {
		return 0
	}
	return medianStep(samples)
}

// GridSamples are the grid-scrape values of every series of name that filter selects.
func (w *Window) GridSamples(name string, filter Filter) []GridSample {
	var out []GridSample
	for i, s := range w.series[name] {
		if filter != nil && !filter(s.labels) {
			continue
		}
		id := strconv.Itoa(i)
		for _, p := range s.points {
			if p.at.phase == 1 {
				out = append(out, GridSample{Series: id, TimeNs: p.at.time, Value: p.value})
			}
		}
	}
	return out
}

// StatsOf is the mean and maximum of the points.
func StatsOf(points []GridPoint) GaugeStats {
	st := GaugeStats{Mean: math.NaN(), Max: math.NaN(), Scrapes: len(points)}
	total := 0.0
	for i, p := range points {
		total += p.Value
		if i == 0 || p.Value > st.Max {
			st.Max = p.Value
		}
	}
	if len(points) > 0 {
		st.Mean = total / float64(len(points))
	}
	return st
}

// Config is the configuration a server reports in its metrics. Zero means not exposed.
type Config struct {
	Engines              int     // distinct engine labels (DP ranks) seen
	BlockSize            int     // KV-cache block size in tokens (vllm:cache_config_info)
	NumGPUBlocks         int     // KV-cache blocks of one engine (the first engine's)
	NumGPUBlocksTotal    int     // summed over engines
	GPUMemoryUtilization float64 // --gpu-memory-utilization
	// MaxNumSeqs and MaxNumBatchedTokens are per engine, from vllm:scheduler_config_info
	// (exported by llmscale's simulator; vLLM does not expose them).
	MaxNumSeqs          int
	MaxNumBatchedTokens int
	CacheConfig         map[string]string // every label of vllm:cache_config_info (first engine)
	SchedulerConfig     map[string]string // every label of vllm:scheduler_config_info
}

// Config reads the configuration from the info gauges of the latest scrape that has them.
func (w *Window) Config() Config {
	c := Config{Engines: len(w.engines())}
	cache := w.latestInfo(MetricCacheConfigInfo)
	if len(cache) > 0 {
		c.CacheConfig = cache[0]
		c.BlockSize = atoi(cache[0]["block_size"])
		c.NumGPUBlocks = atoi(cache[0]["num_gpu_blocks"])
		c.GPUMemoryUtilization = atof(cache[0]["gpu_memory_utilization"])
		for _, ls := range cache {
			c.NumGPUBlocksTotal += atoi(ls["num_gpu_blocks"])
		}
	}
	if sched := w.latestInfo(MetricSchedulerConfigInfo); len(sched) > 0 {
		c.SchedulerConfig = sched[0]
		c.MaxNumSeqs = atoi(sched[0]["max_num_seqs"])
		c.MaxNumBatchedTokens = atoi(sched[0]["max_num_batched_tokens"])
	}
	return c
}

// latestInfo returns the label sets of info gauge name in the latest scrape carrying it,
// ordered by engine.
func (w *Window) latestInfo(name string) []map[string]string {
	var latest scrapeKey
	found := false
	for _, s := range w.series[name] {
		if p := s.points[len(s.points)-1]; !found || latest.less(p.at) {
			latest, found = p.at, true
		}
	}
	var out []map[string]string
	for _, s := range w.series[name] {
		if s.points[len(s.points)-1].at == latest {
			out = append(out, s.labels)
		}
	}
	sortByEngine(out)
	return out
}

func sortByEngine(ls []map[string]string) {
	for i := 1; i < len(ls); i++ {
		for j := i; j > 0 && engineLess(ls[j], ls[j-1]); j-- {
			ls[j], ls[j-1] = ls[j-1], ls[j]
		}
	}
}

func engineLess(a, b map[string]string) bool {
	ea, erra := strconv.Atoi(a[LabelEngine])
	eb, errb := strconv.Atoi(b[LabelEngine])
	if erra == nil && errb == nil {
		return ea < eb
	}
	return a[LabelEngine] < b[LabelEngine]
}

// engines lists the distinct engine labels of vLLM series.
func (w *Window) engines() map[string]bool {
	out := map[string]bool{}
	for _, ss := range w.series {
		for _, s := range ss {
			if e, ok := s.labels[LabelEngine]; ok && e != "" {
				out[e] = true
			}
		}
	}
	return out
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return 0
		}
		return int(f)
	}
	return n
}

func atof(s string) float64 {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0
	}
	return f
}
