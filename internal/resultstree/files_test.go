package resultstree

import (
	"math"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/llmscale/llmscale/internal/aggregate"
	"github.com/llmscale/llmscale/internal/promscrape"
	"github.com/llmscale/llmscale/internal/reportdata"
	"github.com/llmscale/llmscale/internal/results"
)

var t0 = time.Date(2025, 6, 2, 12, 0, 0, 0, time.UTC)

// at is t0 plus s seconds, as wall-clock ns.
func at(s float64) int64 { return t0.Add(time.Duration(s * float64(time.Second))).UnixNano() }

// gauge rows of one scrape of one replica file: running, waiting and KV usage per engine.
func scrape(s float64, engines map[string][3]float64) []results.ServerMetric {
	rows := []results.ServerMetric{{Phase: results.PhaseDuring, TimeUnixNs: at(s), Name: promscrape.MetricScrapeUp, Value: 1}}
	for e, v := range engines {
		labels := "engine=" + e
		for i, name := range []string{promscrape.MetricRunning, promscrape.MetricWaiting, promscrape.MetricKVCacheUsage} {
			rows = append(rows, results.ServerMetric{Phase: results.PhaseDuring, TimeUnixNs: at(s), Name: name,
				Labels: labels, LabelMap: map[string]string{"engine": e}, Engine: e, Value: v[i]})
		}
	}
	return rows
}

// request is a successful request sent at sent s and ending at end s (offsets from the load's
// start, which is t0), with its TTFT and two gaps.
func request(sent, end, ttftMs float64) results.Request {
	ns := func(s float64) int64 { return int64(s * 1e9) }
	return results.Request{SentNs: ns(sent), EndNs: ns(end), DoneNs: ns(end), StartUnixNs: at(sent),
		TTFTNs: int64(ttftMs * 1e6), E2ENs: ns(end - sent), ITLNs: []int64{10e6, 20e6}, OutputTokens: 3}
}

// TestExperimentFilesByHand builds one experiment's CDFs and timeline from files written
// here, with two server replicas (one of two engines) and two load workers, against values
// computed by hand: gauges summed over engines and replicas per scrape, KV usage averaged,
// GPU utilisation averaged over GPUs, completions per grid instant, latencies of the measured
// window's successful requests only.
func TestExperimentFilesByHand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rec := &results.Experiment{ID: "x", StartedAt: t0, EndedAt: t0.Add(2 * time.Second),
		MeasureFrom: t0.Add(500 * time.Millisecond), MeasureTo: t0.Add(1500 * time.Millisecond),
		Load: results.LoadInfo{WarmupNs: 5e8, RunTimeNs: 1e9}}
	var r0, r1 []results.ServerMetric
	for _, s := range []float64{0.5, 1, 1.5} {
		r0 = append(r0, scrape(s, map[string][3]float64{"0": {3, 1, 0.2}, "1": {4, 0, 0.4}})...)
		r1 = append(r1, scrape(s, map[string][3]float64{"0": {5, 2, 0.6}})...)
	}
	failed := request(0.6, 1.0, 50)
	failed.ErrorKind = results.ErrorStreamBroken
	write := func(name string, rows any) {
		t.Helper()
		var err error
		switch r := rows.(type) {
		case []results.ServerMetric:
			err = results.WriteParquet(filepath.Join(dir, name), r)
		case []results.GPUSample:
			err = results.WriteParquet(filepath.Join(dir, name), r)
		case []results.Request:
			err = results.WriteParquet(filepath.Join(dir, name), r)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	write("server_metrics.parquet", r0)
	write("server_metrics-r1.parquet", r1)
	write("requests-0.parquet", []results.Request{request(0.6, 1.0, 100), request(0.7, 1.05, 200), request(0.1, 0.4, 900)})
	write("requests-1.parquet", []results.Request{request(0.8, 0.95, 300), failed})
	var gpus []results.GPUSample // two GPUs at 0, 0.5 and 1 s: utilisation means 10, 20, 30
	for k, util := range [][2]float64{{0, 20}, {10, 30}, {20, 40}} {
		for g := range util {
			gpus = append(gpus, results.GPUSample{TimeUnixNs: at(float64(k) / 2), GPUIndex: int32(g), SMUtilPct: &util[g]})
		}
	}
	write(results.GPUFile, gpus)

	var e reportdata.Experiment
	if problems := readExperimentFiles(dir, rec, &aggregate.Row{ExpID: "x", BatchCapTotal: 24}, &e); len(problems) > 0 {
		t.Fatalf("problems: %v", problems)
	}
	nan := math.NaN()
	want := &reportdata.Timeline{
		OffsetS:     reportdata.Values{0, 0.5, 1, 1.5, 2},
		Running:     reportdata.Values{nan, 12, 12, 12, nan},
		Waiting:     reportdata.Values{nan, 3, 3, 3, nan},
		KVUsage:     reportdata.Values{nan, 0.4, 0.4, 0.4, nan},
		GPUUtil:     reportdata.Values{10, 20, 30, nan, nan},
		RequestRate: reportdata.Values{0, 2, 6, 0, 0}, // 0.4 s → 0.5; 0.95, 1.0, 1.05 s → 1; per 0.5 s
		MeasureFrom: reportdata.Opt(0.5), MeasureTo: reportdata.Opt(1.5), RequestRateSource: reportdata.RateFromRequests, BatchCap: 24,
	}
	if diff := cmp.Diff(want, e.Timeline, cmpopts.EquateNaNs(), cmpopts.EquateApprox(0, 1e-9)); diff != "" {
		t.Errorf("timeline (-want +got):\n%s", diff)
	}
	if want := (reportdata.CDF{P: reportdata.Values{1.0 / 3, 2.0 / 3, 1}, Ms: reportdata.Values{100, 200, 300}}); !cmp.Equal(want, e.TTFT, cmpopts.EquateApprox(0, 1e-9)) {
		t.Errorf("TTFT CDF %+v, want %+v (the window's successful requests)", e.TTFT, want)
	}
	if got := e.ITL.Ms; !slices.Equal(got, reportdata.Values{10, 10, 10, 20, 20, 20}) {
		t.Errorf("ITL CDF over %v, want every gap of the three requests", got)
	}
}

// TestCompletionRateFromServer: without request files the rate comes from the server's
// counter: growth between scrapes over the time between them, summed over series.
func TestCompletionRateFromServer(t *testing.T) {
	t.Parallel()
	counter := func(s, v float64, engine string) results.ServerMetric {
		return results.ServerMetric{Phase: results.PhaseDuring, TimeUnixNs: at(s), Name: promscrape.MetricRequestSuccess,
			Labels: "engine=" + engine, Value: v}
	}
	rows := []results.ServerMetric{counter(0, 10, "0"), counter(1, 14, "0"), counter(2, 2, "0"), // a restart at 2 s
		counter(0, 0, "1"), counter(1, 6, "1"), counter(2, 7, "1")}
	dir := t.TempDir()
	if err := results.WriteParquet(filepath.Join(dir, results.ServerMetricsFile), rows); err != nil {
		t.Fatal(err)
	}
	sm, err := readServerMetrics(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := sm.completionRate(newGrid(at(0), at(2), int64(time.Second)))
	if want := (reportdata.Values{math.NaN(), 10, 1}); !cmp.Equal(got, want, cmpopts.EquateNaNs()) {
		t.Errorf("completion rate %v, want %v", got, want)
	}
}

func TestGrid(t *testing.T) {
	t.Parallel()
	g := newGrid(at(0), at(10), int64(time.Second))
	if g.n != 11 || g.index(at(2.4)) != 2 || g.index(at(2.6)) != 3 || g.index(at(-1)) != -1 {
		t.Errorf("grid %+v: n %d, index(2.4 s) %d, index(2.6 s) %d", g, g.n, g.index(at(2.4)), g.index(at(2.6)))
	}
	long := newGrid(at(0), at(86400), int64(time.Second)) // a day at 1 s
	if long.n > maxGridPoints || long.step <= int64(time.Second) {
		t.Errorf("a day's grid: %d instants of %v", long.n, time.Duration(long.step))
	}
	if newGrid(at(0), at(1), 0).step != int64(defaultStep) {
		t.Errorf("no step: want the default")
	}
	if got := medianGap([]int64{0, 10, 20, 20, 35, 45}); got != 10 {
		t.Errorf("medianGap = %d, want 10", got)
	}
}

// TestReservoir: at most limit values are kept, a uniform sample of the stream (its mean
// close to the stream's), and the same stream gives the same sample.
func TestReservoir(t *testing.T) {
	t.Parallel()
	a, b := newReservoir(1000, 1), newReservoir(1000, 1)
	for i := range 100_000 {
		a.add(float64(i))
		b.add(float64(i))
	}
	if len(a.vals) != 1000 || !slices.Equal(a.vals, b.vals) {
		t.Fatalf("%d values kept; deterministic %v", len(a.vals), slices.Equal(a.vals, b.vals))
	}
	sum := 0.0
	for _, v := range a.vals {
		sum += v
	}
	// The mean of 1000 draws from U[0, 1e5) has sd ≈ 913: 5 sd is a wide margin.
	if mean := sum / 1000; math.Abs(mean-50_000) > 4_600 {
		t.Errorf("sample mean %g, want about 50000", mean)
	}
}
