package promscrape

import (
	"math"
	"testing"
	"time"

	"github.com/llmscale/llmscale/internal/results"
)

// rowsOf builds the rows of scrapes given as phase → samples (grid scrapes in order).
type scrapeSpec struct {
	phase   string
	samples []Sample
	err     error
}

func rowsOf(specs ...scrapeSpec) []results.ServerMetric {
	start := time.Unix(1_700_000_000, 0)
	var rows []results.ServerMetric
	k := int64(0)
	for i, sp := range specs {
		at := start.Add(time.Duration(i) * time.Second)
		seq := int64(-1)
		if sp.phase == results.PhaseDuring {
			seq = k
			k++
		}
		rows = append(rows, Rows("e", sp.phase, seq, at, start, Snapshot{Time: at, Samples: sp.samples}, sp.err)...)
	}
	return rows
}

func counter(name, engine string, v float64) Sample {
	return Sample{Name: name, OriginalName: name, Type: TypeCounter, Labels: Labels{{LabelEngine, engine}}, Value: v}
}

func gauge(name, engine string, v float64) Sample {
	return Sample{Name: name, OriginalName: name, Type: TypeGauge, Labels: Labels{{LabelEngine, engine}}, Value: v}
}

func TestIncrease(t *testing.T) {
	t.Parallel()
	const c = MetricPreemptions
	cases := []struct {
		name   string
		specs  []scrapeSpec
		want   float64
		resets int
		exact  bool
	}{
		{"plain", []scrapeSpec{
			{results.PhaseBefore, []Sample{counter(c, "0", 5), counter(c, "1", 1)}, nil},
			{results.PhaseDuring, []Sample{counter(c, "0", 7), counter(c, "1", 1)}, nil},
			{results.PhaseAfter, []Sample{counter(c, "0", 9), counter(c, "1", 4)}, nil},
		}, 7, 0, true},
		{"reset counts from zero", []scrapeSpec{
			{results.PhaseBefore, []Sample{counter(c, "0", 50)}, nil},
			{results.PhaseDuring, []Sample{counter(c, "0", 60)}, nil},
			{results.PhaseDuring, []Sample{counter(c, "0", 3)}, nil},
			{results.PhaseAfter, []Sample{counter(c, "0", 8)}, nil},
		}, 10 + 3 + 5, 1, true},
		{"series born in the window grows from zero", []scrapeSpec{
			{results.PhaseBefore, []Sample{counter(c, "0", 1)}, nil},
			{results.PhaseDuring, []Sample{counter(c, "0", 1), counter(c, "1", 2)}, nil},
			{results.PhaseAfter, []Sample{counter(c, "0", 1), counter(c, "1", 6)}, nil},
		}, 6, 0, true},
		{"no before snapshot: first value is the baseline", []scrapeSpec{
			{results.PhaseBefore, nil, errTest},
			{results.PhaseDuring, []Sample{counter(c, "0", 10)}, nil},
			{results.PhaseAfter, []Sample{counter(c, "0", 14)}, nil},
		}, 4, 0, false},
		{"NaN skipped", []scrapeSpec{
			{results.PhaseBefore, []Sample{counter(c, "0", 1)}, nil},
			{results.PhaseDuring, []Sample{counter(c, "0", math.NaN())}, nil},
			{results.PhaseAfter, []Sample{counter(c, "0", 3)}, nil},
		}, 2, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := NewWindow(rowsOf(tc.specs...)).Increase(c, nil)
			if got.Value != tc.want || got.Resets != tc.resets || got.Exact != tc.exact {
				t.Errorf("Increase = %+v, want %v with %d resets, exact %v", got, tc.want, tc.resets, tc.exact)
			}
		})
	}
}

type testError string

func (e testError) Error() string { return string(e) }

const errTest = testError("connection refused")

func TestWindowFiltersAndEmptyWindows(t *testing.T) {
	t.Parallel()
	w := NewWindow(rowsOf(
		scrapeSpec{results.PhaseBefore, []Sample{counter(MetricPreemptions, "0", 1), counter(MetricPreemptions, "1", 1)}, nil},
		scrapeSpec{results.PhaseDuring, []Sample{gauge(MetricKVCacheUsage, "0", 0.5), gauge(MetricKVCacheUsage, "1", 1)}, nil},
		scrapeSpec{results.PhaseDuring, nil, errTest},
		scrapeSpec{results.PhaseDuring, []Sample{gauge(MetricKVCacheUsage, "0", 0.1)}, nil},
		scrapeSpec{results.PhaseAfter, []Sample{counter(MetricPreemptions, "0", 4), counter(MetricPreemptions, "1", 2)}, nil},
	))
	if got := w.Increase(MetricPreemptions, LabelIs(LabelEngine, "1")); got.Value != 1 || got.Series != 1 {
		t.Errorf("engine 1 increase = %+v, want 1 over 1 series", got)
	}
	kv := w.Gauge(MetricKVCacheUsage, nil, MeanAcross)
	if kv.Scrapes != 2 || math.Abs(kv.Mean-0.425) > 1e-12 || kv.Max != 0.75 {
		t.Errorf("KV usage = %+v, want mean of (0.75, 0.1) over the 2 scrapes carrying it", kv)
	}
	sum := w.Gauge(MetricKVCacheUsage, nil, SumAcross)
	if sum.Max != 1.5 {
		t.Errorf("summed max = %v, want 1.5", sum.Max)
	}
	if g := w.Gauge(MetricRunning, nil, SumAcross); g.Scrapes != 0 || !math.IsNaN(g.Mean) || !math.IsNaN(g.Max) {
		t.Errorf("absent gauge = %+v, want NaN over 0 scrapes", g)
	}
	if mean, n, ok := w.HistogramMean(MetricQueueTime, nil); ok || n != 0 || !math.IsNaN(mean) {
		t.Errorf("absent histogram = %v, %v, %v; want NaN, 0, false", mean, n, ok)
	}
	if w.grid != 3 || w.gridFailed != 1 {
		t.Errorf("grid %d, failed %d; want 3 and 1", w.grid, w.gridFailed)
	}
}

func TestSummarizeCaptures(t *testing.T) {
	t.Parallel()
	dp := parseCapture(t, "vllm-v1-dp2.txt", textType)
	legacy := parseCapture(t, "vllm-v0-legacy.txt", textType)
	for _, c := range []struct {
		name    string
		samples []Sample
		config  Config
		kv      float64
	}{
		{"v1 DP=2", dp, Config{Engines: 2, BlockSize: 16, NumGPUBlocks: 27054, NumGPUBlocksTotal: 54108, GPUMemoryUtilization: 0.9}, (0.6231 + 0.5319) / 2},
		{"v0", legacy, Config{BlockSize: 16, NumGPUBlocks: 2375, NumGPUBlocksTotal: 2375, GPUMemoryUtilization: 0.9}, 0.4217451523545706},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := Summarize(rowsOf(
				scrapeSpec{results.PhaseBefore, c.samples, nil},
				scrapeSpec{results.PhaseDuring, c.samples, nil},
				scrapeSpec{results.PhaseAfter, c.samples, nil},
			))
			got := s.Config
			got.CacheConfig, got.SchedulerConfig = nil, nil
			if got.Engines != c.config.Engines || got.BlockSize != c.config.BlockSize || got.NumGPUBlocks != c.config.NumGPUBlocks ||
				got.NumGPUBlocksTotal != c.config.NumGPUBlocksTotal || got.GPUMemoryUtilization != c.config.GPUMemoryUtilization {
				t.Errorf("config = %+v, want %+v", got, c.config)
			}
			checkFloat(t, "KV usage (renamed in v0)", s.KVCacheUsage.Mean, c.kv)
			if s.GenerationTokens != 0 || s.Restarts != 0 || !s.Exact {
				t.Errorf("unchanged counters gave %v tokens, %d restarts, exact %v", s.GenerationTokens, s.Restarts, s.Exact)
			}
		})
	}
}
