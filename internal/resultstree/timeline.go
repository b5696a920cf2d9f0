package resultstree

import (
	"cmp"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"time"

	"github.com/llmscale/llmscale/internal/promscrape"
	"github.com/llmscale/llmscale/internal/reportdata"
	"github.com/llmscale/llmscale/internal/results"
)

// An experiment's timeline puts every source on one grid of instants origin + i·step, where
// origin is the experiment's start (experiment.json started_at) and step the coarsest
// sampling interval of its sources (the /metrics scrapes, the GPU samples), so that no column
// has gaps between samples. Each source's samples are placed at the nearest grid instant by
// their wall-clock time (time_unix_ns; a request's end is start_unix_ns + end_ns − sent_ns);
// several samples at one instant are averaged.
const (
	// defaultStep is the grid step when no source tells its interval.
	defaultStep = time.Second
	// maxGridPoints bounds the grid (before DownsampleTimeline): a longer experiment gets a
	// coarser step.
	maxGridPoints = 20_000
)

// grid is the time axis of one experiment's timeline.
type grid struct {
	origin, step int64 // wall clock, ns
	n            int
}

// index is the grid instant nearest to t (possibly outside [0, n)).
func (g grid) index(t int64) int {
	return int(math.Round(float64(t-g.origin) / float64(g.step)))
}

func (g grid) offsets() reportdata.Values {
	out := make(reportdata.Values, g.n)
	for i := range out {
		out[i] = reportdata.Round(float64(int64(i)*g.step)/1e9, 3)
	}
	return out
}

// newGrid spans [origin, end] with the given step (made coarser when the span needs more
// than maxGridPoints instants).
func newGrid(origin, end, step int64) grid {
	if step <= 0 {
		step = int64(defaultStep)
	}
	span := max(end-origin, 0)
	if span/step+2 > maxGridPoints {
		step = span/(maxGridPoints-2) + 1
	}
	return grid{origin: origin, step: step, n: int((span+step-1)/step) + 1} // the last instant at or after end
}

// meanAcc averages values per grid instant.
type meanAcc struct{ sum, n []float64 }

func newMeanAcc(n int) meanAcc { return meanAcc{sum: make([]float64, n), n: make([]float64, n)} }

func (a meanAcc) add(i int, v float64) { a.addN(i, v, 1) }

// addN adds n values whose sum is sum.
func (a meanAcc) addN(i int, sum float64, n int) {
	if i >= 0 && i < len(a.sum) && finite(sum) && n > 0 {
		a.sum[i] += sum
		a.n[i] += float64(n)
	}
}

// values are the means, NaN where nothing was added; nil when nothing was added at all.
func (a meanAcc) values() reportdata.Values {
	out, any := make(reportdata.Values, len(a.sum)), false
	for i := range out {
		out[i] = math.NaN()
		if a.n[i] > 0 {
			out[i], any = a.sum[i]/a.n[i], true
		}
	}
	if !any {
		return nil
	}
	return out
}

// counterPoint is one value of a counter series.
type counterPoint struct {
	at    int64
	value float64
}

// replicaMetrics is what the timeline keeps of one server_metrics file: the grid samples of
// the engine-neutral gauges (running, waiting, KV usage: promscrape.GaugeQuantity maps any
// engine's names onto them) and the finished-requests counter.
type replicaMetrics struct {
	gauges    map[promscrape.Quantity][]promscrape.GridSample
	completed map[string][]counterPoint // finished requests (vllm:request_success_total, …), by series
	gridTimes []int64                   // the grid scrapes' instants (phase during)
}

// readReplica reads the gauges and the completion counter of server_metrics file k.
func readReplica(path string, k int) (*replicaMetrics, error) {
	m := &replicaMetrics{gauges: map[promscrape.Quantity][]promscrape.GridSample{}, completed: map[string][]counterPoint{}}
	finished := map[string]bool{}
	for _, src := range promscrape.Sources(promscrape.QRequestsFinished) {
		finished[src.Metric] = true
	}
	seen := map[int64]bool{}
	err := results.ScanParquet(path, func(r *results.ServerMetric) {
		if r.Name == promscrape.MetricScrapeUp && r.Phase == results.PhaseDuring && !seen[r.TimeUnixNs] {
			seen[r.TimeUnixNs] = true
			m.gridTimes = append(m.gridTimes, r.TimeUnixNs)
		}
		if math.IsNaN(r.Value) {
			return
		}
		if q, ok := promscrape.GaugeQuantity(r.Name); ok && r.Phase == results.PhaseDuring {
			m.gauges[q] = append(m.gauges[q], promscrape.GridSample{Series: fmt.Sprintf("%d|%s|%s", k, r.Name, r.Labels),
				TimeNs: r.TimeUnixNs, Value: r.Value})
		} else if finished[r.Name] {
			m.completed[r.Labels] = append(m.completed[r.Labels], counterPoint{r.TimeUnixNs, r.Value})
		}
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(m.gridTimes)
	return m, nil
}

// serverMetrics is every replica's metrics of one experiment.
type serverMetrics []*replicaMetrics

func readServerMetrics(dir string) (serverMetrics, error) {
	var out serverMetrics
	for k, p := range results.ServerMetricsFiles(dir) {
		m, err := readReplica(p, k)
		if err != nil {
			return out, fmt.Errorf("%s unreadable: %w", filepath.Base(p), err)
		}
		out = append(out, m)
	}
	return out, nil
}

// span is the earliest and latest sample time, and the scrape interval (median gap of the
// first replica's grid scrapes; 0 when unknown).
func (s serverMetrics) span() (lo, hi, step int64) {
	lo, hi = math.MaxInt64, math.MinInt64
	for _, m := range s {
		for _, samples := range m.gauges {
			for _, g := range samples {
				lo, hi = min(lo, g.TimeNs), max(hi, g.TimeNs)
			}
		}
	}
	if len(s) > 0 {
		step = medianGap(s[0].gridTimes)
	}
	return lo, hi, step
}

// fill puts running and waiting (summed over engines and replicas) and KV-cache usage (the
// mean over engines) on the grid. The replicas are combined by promscrape.OnGrid, the
// function the summary uses, so the timeline and summary_metrics read the same series; its
// instants are then placed on the timeline's grid.
func (s serverMetrics) fill(t *reportdata.Timeline, g grid) {
	_, _, step := s.span()
	t.Running = s.onGrid(promscrape.QRunning, promscrape.SumAcross, step, g)
	t.Waiting = s.onGrid(promscrape.QWaiting, promscrape.SumAcross, step, g)
	t.KVUsage = s.onGrid(promscrape.QKVUsage, promscrape.MeanAcross, step, g)
}

func (s serverMetrics) onGrid(q promscrape.Quantity, across promscrape.Across, step int64, g grid) reportdata.Values {
	var samples []promscrape.GridSample
	for _, m := range s {
		samples = append(samples, m.gauges[q]...)
	}
	a := newMeanAcc(g.n)
	for _, p := range promscrape.OnGrid(samples, step, across) {
		a.add(g.index(p.TimeNs), p.Value)
	}
	return a.values()
}

// sumReplicas adds the replicas' columns; an instant no replica sampled is NaN.
func sumReplicas(cols []meanAcc) reportdata.Values {
	var out reportdata.Values
	for _, c := range cols {
		v := c.values()
		if v == nil {
			continue
		}
		if out == nil {
			out = v
			continue
		}
		for i := range out {
			switch {
			case math.IsNaN(out[i]):
				out[i] = v[i]
			case !math.IsNaN(v[i]):
				out[i] += v[i]
			}
		}
	}
	return out
}

// completionRate is the servers' completed requests per second: each counter's growth
// between two scrapes divided by the time between them, placed at the later scrape and
// summed over series. Nil without the counter.
func (s serverMetrics) completionRate(g grid) reportdata.Values {
	acc := make([]meanAcc, 0)
	for _, m := range s {
		for _, pts := range m.completed {
			slices.SortFunc(pts, func(a, b counterPoint) int { return cmp.Compare(a.at, b.at) })
			a := newMeanAcc(g.n)
			for j := 1; j < len(pts); j++ {
				dt := float64(pts[j].at-pts[j-1].at) / 1e9
				if dt <= 0 || pts[j].value < pts[j-1].value {
					continue // a restart resets the counter
				}
				a.add(g.index(pts[j].at), (pts[j].value-pts[j-1].value)/dt)
			}
			acc = append(acc, a)
		}
	}
	return sumReplicas(acc)
}

// gpuSamples is gpu.parquet reduced to the mean utilisation over GPUs per sampling instant.
type gpuSamples struct {
	sum, n map[int64]float64 // by time_unix_ns
}

// readGPU reads NVML's utilisation (sm_util_pct; the share of SMs busy where only that was
// recorded) of every GPU and sample.
func readGPU(dir string) (gpuSamples, error) {
	s := gpuSamples{sum: map[int64]float64{}, n: map[int64]float64{}}
	err := results.ScanParquet(filepath.Join(dir, results.GPUFile), func(r *results.GPUSample) {
		v := r.SMUtilPct
		if v == nil {
			v = r.SMActivePct
		}
		if v != nil && finite(*v) {
			s.sum[r.TimeUnixNs] += *v
			s.n[r.TimeUnixNs]++
		}
	})
	return s, err
}

func (s gpuSamples) span() (lo, hi, step int64) {
	lo, hi = math.MaxInt64, math.MinInt64
	times := make([]int64, 0, len(s.sum))
	for t := range s.sum {
		lo, hi = min(lo, t), max(hi, t)
		times = append(times, t)
	}
	slices.Sort(times)
	return lo, hi, medianGap(times)
}

func (s gpuSamples) fill(t *reportdata.Timeline, g grid) {
	if len(s.sum) == 0 {
		return
	}
	a := newMeanAcc(g.n)
	for at, sum := range s.sum {
		a.add(g.index(at), sum/s.n[at])
	}
	t.GPUUtil = a.values()
}

// medianGap is the median difference between consecutive distinct sorted times, 0 with
// fewer than two.
func medianGap(sorted []int64) int64 {
	var gaps []int64
	for i := 1; i < len(sorted); i++ {
		if d := sorted[i] - sorted[i-1]; d > 0 {
			gaps = append(gaps, d)
		}
	}
	if len(gaps) == 0 {
		return 0
	}
	slices.Sort(gaps)
	return gaps[len(gaps)/2]
}
