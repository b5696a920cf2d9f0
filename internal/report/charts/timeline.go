package charts

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/llmscale/llmscale/internal/report/format"
	"github.com/llmscale/llmscale/internal/reportdata"
)

const (
	timeAxisName  = "Time since experiment start (s)"
	NoTelemetry   = "No GPU telemetry for this experiment."
	noServerStats = "No server metrics were recorded for this experiment."
)

// timelineGroups makes, per experiment with measurements, its four time series: requests
// running and waiting (with the batch cap), KV-cache usage, GPU utilisation and the request
// completion rate — where a reader sees the bottleneck happen.
func timelineGroups(exps []reportdata.Experiment) []Group {
	var groups []Group
	for i, e := range exps {
		if e.Timeline == nil && e.Summary == nil {
			continue // failed before measuring: listed with the failures
		}
		g := Group{Key: e.ID, Label: e.ID + " · " + ExperimentLabel(e)}
		prefix := fmt.Sprintf("tl-%d", i)
		if e.Timeline == nil {
			g.Charts = noteCharts(prefix, noServerStats, timelineTitle, "running", "kv", "gpu", "rate")
		} else {
			t := reportdata.DownsampleTimeline(*e.Timeline, reportdata.MaxTimelinePoints)
			g.Charts = []Chart{
				runningChart(prefix, e, t), kvChart(prefix, t), gpuChart(prefix, t), rateChart(prefix, t),
			}
		}
		groups = append(groups, g)
	}
	return groups
}

func timelineTitle(kind string) string {
	return map[string]string{
		"running": "Requests running and waiting",
		"kv":      "KV-cache usage",
		"gpu":     "GPU utilisation",
		"rate":    "Request completion rate",
	}[kind]
}

// noteCharts are the charts of kinds, each titled title(kind) and showing only note: the
// slots of an experiment that lacks their data, so the groups line up.
func noteCharts(prefix, note string, title func(string) string, kinds ...string) []Chart {
	cs := make([]Chart, len(kinds))
	for i, k := range kinds {
		cs[i] = Chart{ID: prefix + "-" + k, Title: title(k), Note: note}
	}
	return cs
}

func timelineChart(prefix, kind string, t reportdata.Timeline, y Axis) Chart {
	c := Chart{ID: prefix + "-" + kind, Title: timelineTitle(kind), X: Axis{Name: timeAxisName, Min: ptr(0)}, Y: y}
	if t.MeasureFrom != nil && t.MeasureTo != nil && finite(*t.MeasureFrom) && finite(*t.MeasureTo) {
		c.Bands = []Band{{From: *t.MeasureFrom, To: *t.MeasureTo, Label: "measured"}}
	}
	return c
}

func column(name, color, dash string, t reportdata.Timeline, v reportdata.Values) Line {
	l := Line{Name: name, Kind: KindCurve, Color: color, Dash: dash}
	for i, x := range t.OffsetS {
		y := math.NaN()
		if i < len(v) {
			y = v[i]
		}
		l.Data = append(l.Data, Pt{x, y})
	}
	return l
}

func hasData(v reportdata.Values) bool { return slices.ContainsFunc(v, finite) }

func runningChart(prefix string, e reportdata.Experiment, t reportdata.Timeline) Chart {
	c := timelineChart(prefix, "running", t, Axis{Name: "Requests (count)", Min: ptr(0)})
	if hasData(t.Running) {
		c.Series = append(c.Series, column("running", colorMeasured, "", t, t.Running))
	}
	if hasData(t.Waiting) {
		c.Series = append(c.Series, column("waiting (queued)", colorAmdahl, "", t, t.Waiting))
	}
	limit := float64(t.BatchCap)
	if limit <= 0 && e.Factors.BatchSize > 0 {
		limit = float64(e.Factors.BatchSize * max(e.Factors.DP, 1))
	}
	if limit > 0 {
		c.Marks = []Mark{{Axis: "y", Value: limit, Label: fmt.Sprintf("batch cap %g (max-num-seqs × DP)", limit), Color: colorMark}}
		if limit >= maxOf(t.Running, t.Waiting) {
			c.Y.Max = ptr(niceCeil(limit * 1.1)) // the cap in view, above the lines
		}
	}
	if len(c.Series) == 0 {
		c.Note = "No running/waiting samples for this experiment."
	}
	return c
}

func kvChart(prefix string, t reportdata.Timeline) Chart {
	c := timelineChart(prefix, "kv", t, Axis{Name: "KV-cache usage (% of capacity)", Percent: true, Min: ptr(0), Max: ptr(1)})
	if !hasData(t.KVUsage) {
		c.Note = "No KV-cache samples for this experiment."
		return c
	}
	c.Series = []Line{column("KV-cache usage", colorUSL, "", t, t.KVUsage)}
	return c
}

func gpuChart(prefix string, t reportdata.Timeline) Chart {
	c := timelineChart(prefix, "gpu", t, Axis{Name: "GPU utilisation, mean over GPUs (%)", Min: ptr(0), Max: ptr(100)})
	if !hasData(t.GPUUtil) {
		c.Note = NoTelemetry
		return c
	}
	c.Series = []Line{column("GPU utilisation (mean)", palette[3], "", t, t.GPUUtil)}
	return c
}

func rateChart(prefix string, t reportdata.Timeline) Chart {
	c := timelineChart(prefix, "rate", t, Axis{Name: "Completed requests (requests/s)", Min: ptr(0)})
	if !hasData(t.RequestRate) {
		c.Note = "No request-rate samples for this experiment."
		return c
	}
	name := "completed requests/s"
	if t.RequestRateSource == reportdata.RateFromServer {
		name += " (server counter)"
	}
	c.Series = []Line{column(name, palette[4], "", t, t.RequestRate)}
	return c
}

// ExperimentLabel describes an experiment's factors in one line: "4 GPUs · TP 4 × DP 1 ·
// 64 users · medium / 128 tok".
func ExperimentLabel(e reportdata.Experiment) string {
	parts := []string{GPULabel(e.Factors.GPUs), parallelLabel(e.Factors), loadLabel(e.Factors)}
	if w := workloadLabel(e.Factors); w != "" {
		parts = append(parts, w)
	}
	if e.Factors.Repeat > 0 {
		parts = append(parts, fmt.Sprintf("repeat %d", e.Factors.Repeat))
	}
	return strings.Join(nonEmpty(parts), " · ")
}

func nonEmpty(ss []string) []string {
	out := ss[:0:0]
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// parallelLabel is "TP 2 × DP 2" (PP only when > 1).
func parallelLabel(f reportdata.Factors) string {
	var p []string
	if f.TP > 0 {
		p = append(p, fmt.Sprintf("TP %d", f.TP))
	}
	if f.DP > 0 {
		p = append(p, fmt.Sprintf("DP %d", f.DP))
	}
	if f.PP > 1 {
		p = append(p, fmt.Sprintf("PP %d", f.PP))
	}
	return strings.Join(p, " × ")
}

// loadLabel is "64 users", "concurrency 32" or "8 req/s".
func loadLabel(f reportdata.Factors) string {
	switch f.Mode {
	case "users":
		return fmt.Sprintf("%d users", f.Users)
	case "concurrency":
		return fmt.Sprintf("concurrency %d", f.Concurrency)
	case "rate":
		return fmt.Sprintf("%s req/s", format.Num(f.Rate))
	case "sweep":
		if f.Rate > 0 {
			return fmt.Sprintf("sweep, %s req/s", format.Num(f.Rate))
		}
		return fmt.Sprintf("sweep, concurrency %d", f.Concurrency)
	}
	return f.Mode
}

func workloadLabel(f reportdata.Factors) string {
	switch {
	case f.Prompts != "" && f.MaxTokens > 0:
		return fmt.Sprintf("%s / %d tok", f.Prompts, f.MaxTokens)
	case f.MaxTokens > 0:
		return fmt.Sprintf("%d tok", f.MaxTokens)
	}
	return f.Prompts
}

// maxOf is the largest finite value of the columns, 0 when none.
func maxOf(cols ...reportdata.Values) float64 {
	m := 0.0
	for _, c := range cols {
		for _, v := range c {
			if finite(v) && v > m {
				m = v
			}
		}
	}
	return m
}

// niceCeil rounds v up to a round number (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of
// ten): an axis maximum.
func niceCeil(v float64) float64 {
	if !(v > 0) || math.IsInf(v, 0) {
		return v
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}
