// Package charts describes every chart of a report as plain data (Model: axes, lines, marks,
// bands), built once from a reportdata.Data value by Build. Both drawings of a report draw
// these descriptions and nothing else: the HTML page embeds them as JSON for a small script
// that turns each into an ECharts option (package report), and the static figures draw them
// with gonum/plot (package report/figures). The descriptions are the golden-tested "figures'
// series"; the drawings only style them.
package charts

import (
	"fmt"
	"math"
	"strconv"

	"github.com/llmscale/llmscale/internal/report/format"
	"github.com/llmscale/llmscale/internal/reportdata"
)

// Model is every chart of the report, as embedded in report.html.
type Model struct {
	Scaling    []Chart `json:"scaling"` // throughput vs GPUs, one per series
	Efficiency Chart   `json:"efficiency"`
	KarpFlatt  Chart   `json:"karp_flatt"`
	Latency    []Group `json:"latency"` // per series: TTFT, ITL, E2E CDFs per GPU count
	Load       []Chart `json:"load"`    // per server configuration
	Pareto     Chart   `json:"pareto"`
	Timelines  []Group `json:"timelines"` // per experiment
}

// Group is a set of charts shown together and picked with a selector.
type Group struct {
	Key    string  `json:"key"`
	Label  string  `json:"label"`
	Charts []Chart `json:"charts"`
}

// Chart is one figure: axes with their titles and units, lines and point sets, marks.
type Chart struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	X      Axis   `json:"x"`
	Y      Axis   `json:"y"`
	Y2     *Axis  `json:"y2,omitempty"`
	Series []Line `json:"series"`
	Marks  []Mark `json:"marks,omitempty"`
	Bands  []Band `json:"bands,omitempty"`
	// Note replaces the chart when there is nothing to draw, saying why (e.g. "No GPU
	// telemetry for this experiment.").
	Note string `json:"note,omitempty"`
	// Caption is a line of text under the chart (the fits' parameters).
	Caption string `json:"caption,omitempty"`
}

// Axis is an axis title (with its unit) and its scale.
type Axis struct {
	Name string `json:"name"`
	// Log is the base of a logarithmic scale (2 or 10); 0 means linear.
	Log int      `json:"log,omitempty"`
	Min *float64 `json:"min,omitempty"`
	Max *float64 `json:"max,omitempty"`
	// Percent formats tick labels as percentages of 1 (0.5 → 50 %).
	Percent bool `json:"percent,omitempty"`
	// Integer ticks only (GPU counts, users).
	Integer bool `json:"integer,omitempty"`
}

// Line kinds.
const (
	KindLine    = "line"    // measured values joined, with markers
	KindCurve   = "curve"   // a smooth fitted or ideal curve, no markers
	KindScatter = "scatter" // markers only
	KindStep    = "step"    // a step function (CDFs)
)

// Line is one legend entry.
type Line struct {
	Name  string `json:"name"`
	Kind  string `json:"kind"`
	Color string `json:"color"`
	Dash  string `json:"dash,omitempty"` // "dashed" or "dotted"
	Axis  int    `json:"axis,omitempty"` // 1: the right-hand axis
	Open  bool   `json:"open,omitempty"` // hollow markers
	Data  []Pt   `json:"data"`
	// Names label the points in tooltips (experiment ids), parallel to Data when present.
	Names []string `json:"names,omitempty"`
	// Labels, parallel to Data, are written beside the points themselves (the Pareto view's
	// configurations).
	Labels []string `json:"labels,omitempty"`
}

// Mark is a reference line across the chart at a value of the x (or y) axis.
type Mark struct {
	Axis  string  `json:"axis"` // "x" or "y"
	Value float64 `json:"value"`
	Label string  `json:"label"`
	Color string  `json:"color"`
}

// Band shades a range of the x axis (the measured window).
type Band struct {
	From  float64 `json:"from"`
	To    float64 `json:"to"`
	Label string  `json:"label"`
}

// Pt is an (x, y) point; a NaN or infinite y is written as null, a gap in the line.
type Pt [2]float64

// MarshalJSON writes [x, y] with 6 significant digits, null for a non-finite value.
func (p Pt) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 24)
	b = append(b, '[')
	b = appendNum(b, p[0])
	b = append(b, ',')
	b = appendNum(b, p[1])
	return append(b, ']'), nil
}

func appendNum(b []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(b, "null"...)
	}
	return strconv.AppendFloat(b, format.Sig(v, 6), 'g', -1, 64)
}

// Colours: a qualitative palette for series (colour-blind safe, Okabe–Ito based) and fixed
// colours for the roles every scaling chart shares.
var palette = [...]string{
	"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#8C564B", "#7F7F7F",
}

const (
	colorMeasured = "#0072B2"
	colorIdeal    = "#9CA3AF"
	colorAmdahl   = "#D55E00"
	colorUSL      = "#009E73"
	colorOpen     = "#B91C1C"
	colorMark     = "#B91C1C"
	colorGoodput  = "#CC79A7" // goodput beside throughput: Okabe–Ito reddish purple
)

func SeriesColor(i int) string { return palette[i%len(palette)] }

// gpuColor gives GPU counts colours from a sequential ramp, light for few and dark for many,
// spread over the whole ramp so that neighbours differ in hue as well as lightness (viridis:
// the old all-blue ramp made 2 and 4 GPUs hard to tell apart).
func gpuColor(i, n int) string {
	ramp := [...]string{"#B5A300", "#5EC962", "#21918C", "#3B528B", "#6A2C91", "#440154"}
	if n <= 1 {
		return ramp[2]
	}
	k := int(math.Round(float64(i) * float64(len(ramp)-1) / float64(n-1)))
	return ramp[min(max(k, 0), len(ramp)-1)]
}

func ptr(v float64) *float64 { return &v }

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func GPULabel(n int) string {
	if n == 1 {
		return "1 GPU"
	}
	return fmt.Sprintf("%d GPUs", n)
}

// Build makes every chart of the report from d.
func Build(d reportdata.Data) Model {
	// Empty lists, not nil: the page's script reads them as arrays.
	m := Model{
		Efficiency: efficiencyChart(d.Series), KarpFlatt: karpFlattChart(d.Series),
		Latency: latencyGroups(d), Timelines: withPhaseCharts(timelineGroups(d.Experiments), d.Experiments),
		Scaling: []Chart{}, Load: []Chart{},
	}
	if m.Timelines == nil {
		m.Timelines = []Group{}
	}
	for i, s := range d.Series {
		m.Scaling = append(m.Scaling, throughputChart(i, s))
	}
	for i, lc := range d.LoadCurves {
		m.Load = append(m.Load, loadChart(i, lc))
		if g, ok := goodputChart(i, lc); ok {
			m.Load = append(m.Load, g)
		}
	}
	pareto := d.Pareto
	if len(pareto) == 0 {
		pareto = reportdata.ParetoFromExperiments(d.Experiments)
	}
	m.Pareto = paretoChart(pareto)
	return m
}
