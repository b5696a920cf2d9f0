package charts

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/llmscale/llmscale/internal/reportdata"
)

// logRatio is the spread (max/min) of positive values above which an axis becomes logarithmic.
const logRatio = 20

// latencyGroups makes, per series, the TTFT, ITL and E2E CDFs of the experiments behind its
// points, one line per GPU count.
func latencyGroups(d reportdata.Data) []Group {
	byID := ExperimentsByID(d.Experiments)
	groups := make([]Group, 0, len(d.Series))
	for i, s := range d.Series {
		g := Group{Key: fmt.Sprintf("latency-%d", i), Label: s.Name}
		for _, k := range []struct {
			id, title string
			cdf       func(reportdata.Experiment) reportdata.CDF
		}{
			{"ttft", "Time to first token (TTFT)", func(e reportdata.Experiment) reportdata.CDF { return e.TTFT }},
			{"itl", "Inter-token latency (ITL)", func(e reportdata.Experiment) reportdata.CDF { return e.ITL }},
			{"e2e", "End-to-end request latency (E2E)", func(e reportdata.Experiment) reportdata.CDF { return e.E2E }},
		} {
			g.Charts = append(g.Charts, cdfChart(fmt.Sprintf("cdf-%d-%s", i, k.id), k.title, s, byID, k.cdf))
		}
		groups = append(groups, g)
	}
	return groups
}

func ExperimentsByID(exps []reportdata.Experiment) map[string]*reportdata.Experiment {
	m := make(map[string]*reportdata.Experiment, len(exps))
	for i := range exps {
		m[exps[i].ID] = &exps[i]
	}
	return m
}

func cdfChart(id, title string, s reportdata.Series, byID map[string]*reportdata.Experiment, get func(reportdata.Experiment) reportdata.CDF) Chart {
	c := Chart{ID: id, Title: title, Y: Axis{Name: "Requests at or below (cumulative %)", Percent: true, Min: ptr(0), Max: ptr(1)}}
	var all []float64
	for i, p := range s.Points {
		if len(p.ExpIDs) == 0 || byID[p.ExpIDs[0]] == nil {
			continue
		}
		cdf := get(*byID[p.ExpIDs[0]])
		l := Line{Name: GPULabel(p.GPUs), Kind: KindStep, Color: gpuColor(i, len(s.Points))}
		for j := range min(len(cdf.P), len(cdf.Ms)) {
			l.Data = append(l.Data, Pt{cdf.Ms[j], cdf.P[j]})
			all = append(all, cdf.Ms[j])
		}
		if len(l.Data) > 0 {
			c.Series = append(c.Series, l)
		}
	}
	c.X = cdfAxis(all)
	if len(c.Series) == 0 {
		c.Note = "No latency samples for this series."
	}
	return c
}

// valueAxis is a linear axis, or a logarithmic one when the positive values span more than
// logRatio (latencies often span orders of magnitude).
func valueAxis(name string, vals []float64) Axis {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range vals {
		if v > 0 && !math.IsInf(v, 0) {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if hi/lo > logRatio {
		return Axis{Name: name + ", log scale", Log: 10}
	}
	return Axis{Name: name}
}

// cdfAxis is a latency CDF's x axis, its range from the data: logarithmic when the values are
// all positive and span more than logRatio, else linear from 0. Gaps of exactly 0 ms (chunks
// that arrived together) have no place on a log scale: drawn there they became -Infinity in
// the SVG path and flattened the curve, so a distribution with zeros is drawn on a linear one.
func cdfAxis(vals []float64) Axis {
	lo, hi, zero := math.Inf(1), math.Inf(-1), false
	for _, v := range vals {
		switch {
		case math.IsNaN(v) || math.IsInf(v, 0):
		case v <= 0:
			zero = true
		default:
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	switch {
	case math.IsInf(hi, -1): // nothing positive: the chart says there is no sample, or all are 0
		return Axis{Name: "Latency (ms)", Min: ptr(0)}
	case !zero && hi/lo > logRatio:
		return Axis{Name: "Latency (ms), log scale", Log: 10, Min: ptr(lo), Max: ptr(hi)}
	}
	return Axis{Name: "Latency (ms)", Min: ptr(0), Max: ptr(hi)}
}

// loadAxisName is the x-axis title of a load curve.
func loadAxisName(kind string) string {
	switch kind {
	case "users":
		return "Concurrent users (count)"
	case "concurrency":
		return "Concurrency (requests in flight)"
	case "rate":
		return "Request rate (requests/s)"
	case "sweep":
		return "Sweep: request rate (requests/s)"
	}
	return "Load level (" + kind + ")"
}

// loadAxis is linear, or logarithmic (base 2) when the levels span a factor of 8 or more, as
// doubling user counts do.
func loadAxis(kind string, pts []reportdata.LoadPoint) Axis {
	a := Axis{Name: loadAxisName(kind), Min: ptr(0), Integer: kind != "rate" && kind != "sweep"}
	if len(pts) > 0 && pts[0].Load > 0 && pts[len(pts)-1].Load/pts[0].Load >= 8 {
		a = Axis{Name: loadAxisName(kind) + ", log scale", Log: 2}
	}
	return a
}

// loadChart draws one configuration's throughput (left axis) and median TTFT and TPOT (right
// Axis) against load, with a line at the saturation point.
func loadChart(i int, lc reportdata.LoadCurve) Chart {
	pts := slices.Clone(lc.Points)
	slices.SortStableFunc(pts, func(a, b reportdata.LoadPoint) int { return cmp.Compare(a.Load, b.Load) })
	thr := Line{Name: "output throughput", Kind: KindLine, Color: colorMeasured}
	ttft := Line{Name: "TTFT p50", Kind: KindLine, Color: colorAmdahl, Axis: 1}
	tpot := Line{Name: "TPOT p50", Kind: KindLine, Color: colorUSL, Dash: "dashed", Axis: 1}
	var lat []float64
	for _, p := range pts {
		thr.Data = append(thr.Data, Pt{p.Load, p.Throughput})
		ttft.Data = append(ttft.Data, Pt{p.Load, p.TTFTP50})
		tpot.Data = append(tpot.Data, Pt{p.Load, p.TPOTP50})
		thr.Names = append(thr.Names, p.ExpID)
		lat = append(lat, p.TTFTP50, p.TPOTP50)
	}
	y2 := valueAxis("Median latency (ms)", lat)
	if y2.Log == 0 {
		y2.Min = ptr(0) // a linear latency axis from zero: its rise reads true to scale
	}
	c := Chart{
		ID: fmt.Sprintf("load-%d", i), Title: lc.Config, X: loadAxis(lc.LoadKind, pts),
		Y: Axis{Name: "Output throughput (tokens/s)", Min: ptr(0)}, Y2: &y2,
	}
	if len(pts) == 0 {
		c.Note = "No load levels measured for this configuration."
		return c
	}
	if !slices.ContainsFunc(thr.Names, func(s string) bool { return s != "" }) {
		thr.Names = nil
	}
	c.Series = []Line{thr, ttft, tpot}
	if lc.Saturation != nil && finite(*lc.Saturation) {
		c.Marks = []Mark{{Axis: "x", Value: *lc.Saturation, Label: "saturation", Color: colorMark}}
	}
	if lc.SaturationReason != "" { // where the knee is and why, or why there is no mark
		c.Caption = "Saturation: " + lc.SaturationReason + "."
	}
	return c
}

// goodputChart draws, beside a load curve, its completed requests/s and its goodput (those
// that met every SLO) against load: where the two part, more load buys throughput that users
// do not get within their objectives. ok is false without SLOs.
func goodputChart(i int, lc reportdata.LoadCurve) (Chart, bool) {
	pts := slices.Clone(lc.Points)
	slices.SortStableFunc(pts, func(a, b reportdata.LoadPoint) int { return cmp.Compare(a.Load, b.Load) })
	req := Line{Name: "completed requests/s", Kind: KindLine, Color: colorMeasured}
	good := Line{Name: "goodput (met every SLO)", Kind: KindLine, Color: colorGoodput}
	any := false
	for _, p := range pts {
		req.Data = append(req.Data, Pt{p.Load, p.RequestThroughput})
		g := math.NaN()
		if p.Goodput != nil {
			g, any = *p.Goodput, true
		}
		good.Data = append(good.Data, Pt{p.Load, g})
	}
	if !any {
		return Chart{}, false
	}
	c := Chart{ID: fmt.Sprintf("goodput-%d", i), Title: lc.Config + " — goodput", X: loadAxis(lc.LoadKind, pts),
		Y: Axis{Name: "Requests/s", Min: ptr(0)}, Series: []Line{req, good}}
	if lc.Saturation != nil && finite(*lc.Saturation) {
		c.Marks = []Mark{{Axis: "x", Value: *lc.Saturation, Label: "saturation", Color: colorMark}}
	}
	return c, true
}

// paretoChart draws tokens/s per GPU against tokens/s per user, one colour per GPU count, and
// the frontier: the points no other point beats on both.
func paretoChart(pts []reportdata.ParetoPoint) Chart {
	c := Chart{
		ID: "pareto", Title: "Throughput per GPU vs interactivity per user",
		X: Axis{Name: "Output tokens/s per user (interactivity)", Min: ptr(0)},
		Y: Axis{Name: "Output tokens/s per GPU (efficiency)", Min: ptr(0)},
	}
	if len(pts) == 0 {
		c.Note = "No completed experiments to compare."
		return c
	}
	var counts []int
	for _, p := range pts {
		if !slices.Contains(counts, p.GPUs) {
			counts = append(counts, p.GPUs)
		}
	}
	slices.Sort(counts)
	for i, n := range counts {
		l := Line{Name: GPULabel(n), Kind: KindScatter, Color: SeriesColor(i)}
		for _, p := range pts {
			if p.GPUs == n {
				l.Data = append(l.Data, Pt{p.PerUser, p.PerGPU})
				l.Names = append(l.Names, p.ExpID)
				l.Labels = append(l.Labels, p.Config)
			}
		}
		c.Series = append(c.Series, l)
	}
	front := Line{Name: "Pareto frontier", Kind: KindCurve, Color: "#374151", Dash: "dashed"}
	for _, k := range paretoFrontier(pts) {
		front.Data = append(front.Data, Pt{pts[k].PerUser, pts[k].PerGPU})
		front.Names = append(front.Names, pts[k].ExpID)
	}
	if len(front.Data) > 1 {
		c.Series = append(c.Series, front)
	}
	return c
}

// paretoFrontier returns the indices of the points no other point beats on both axes (higher
// per GPU and higher per user), ordered by per-user throughput.
func paretoFrontier(pts []reportdata.ParetoPoint) []int {
	idx := make([]int, 0, len(pts))
	for i, p := range pts {
		dominated := false
		for j, q := range pts {
			if j != i && q.PerGPU >= p.PerGPU && q.PerUser >= p.PerUser &&
				(q.PerGPU > p.PerGPU || q.PerUser > p.PerUser) {
				dominated = true
				break
			}
		}
		if !dominated {
			idx = append(idx, i)
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case pts[a].PerUser < pts[b].PerUser:
			return -1
		case pts[a].PerUser > pts[b].PerUser:
			return 1
		}
		return 0
	})
	return idx
}
