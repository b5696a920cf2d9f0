package report

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// The report's charts are described in Go as plain data (chart) and drawn in the page by a
// small script that turns each description into an ECharts option. The descriptions are the
// golden-tested "figures' series"; the script only styles them.

// chartModel is every chart of the report, as embedded in report.html.
type chartModel struct {
	Scaling    []chart      `json:"scaling"` // throughput vs GPUs, one per series
	Efficiency chart        `json:"efficiency"`
	KarpFlatt  chart        `json:"karp_flatt"`
	Latency    []chartGroup `json:"latency"` // per series: TTFT, ITL, E2E CDFs per GPU count
	Load       []chart      `json:"load"`    // per server configuration
	Pareto     chart        `json:"pareto"`
	Timelines  []chartGroup `json:"timelines"` // per experiment
}

// chartGroup is a set of charts shown together and picked with a selector.
type chartGroup struct {
	Key    string  `json:"key"`
	Label  string  `json:"label"`
	Charts []chart `json:"charts"`
}

// chart is one figure: axes with their titles and units, lines and point sets, marks.
type chart struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	X      axis   `json:"x"`
	Y      axis   `json:"y"`
	Y2     *axis  `json:"y2,omitempty"`
	Series []line `json:"series"`
	Marks  []mark `json:"marks,omitempty"`
	Bands  []band `json:"bands,omitempty"`
	// Note replaces the chart when there is nothing to draw, saying why (e.g. "No GPU
	// telemetry for this experiment.").
	Note string `json:"note,omitempty"`
	// Caption is a line of text under the chart (the fits' parameters).
	Caption string `json:"caption,omitempty"`
}

// axis is an axis title (with its unit) and its scale.
type axis struct {
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
	kindLine    = "line"    // measured values joined, with markers
	kindCurve   = "curve"   // a smooth fitted or ideal curve, no markers
	kindScatter = "scatter" // markers only
	kindStep    = "step"    // a step function (CDFs)
)

// line is one legend entry.
type line struct {
	Name  string `json:"name"`
	Kind  string `json:"kind"`
	Color string `json:"color"`
	Dash  string `json:"dash,omitempty"` // "dashed" or "dotted"
	Axis  int    `json:"axis,omitempty"` // 1: the right-hand axis
	Open  bool   `json:"open,omitempty"` // hollow markers
	Data  []pt   `json:"data"`
	// Names label the points in tooltips (experiment ids), parallel to Data when present.
	Names []string `json:"names,omitempty"`
	// Labels, parallel to Data, are written beside the points themselves (the Pareto view's
	// configurations).
	Labels []string `json:"labels,omitempty"`
}

// mark is a reference line across the chart at a value of the x (or y) axis.
type mark struct {
	Axis  string  `json:"axis"` // "x" or "y"
	Value float64 `json:"value"`
	Label string  `json:"label"`
	Color string  `json:"color"`
}

// band shades a range of the x axis (the measured window).
type band struct {
	From  float64 `json:"from"`
	To    float64 `json:"to"`
	Label string  `json:"label"`
}

// pt is an (x, y) point; a NaN or infinite y is written as null, a gap in the line.
type pt [2]float64

// MarshalJSON writes [x, y] with 6 significant digits, null for a non-finite value.
func (p pt) MarshalJSON() ([]byte, error) {
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
	return strconv.AppendFloat(b, sig(v, 6), 'g', -1, 64)
}

// sig rounds v to n significant digits.
func sig(v float64, n int) float64 {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return v
	}
	f, err := strconv.ParseFloat(strconv.FormatFloat(v, 'g', n, 64), 64)
	if err != nil {
		return v
	}
	return f
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

func seriesColor(i int) string { return palette[i%len(palette)] }

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

func gpuLabel(n int) string {
	if n == 1 {
		return "1 GPU"
	}
	return fmt.Sprintf("%d GPUs", n)
}

// chartJSON encodes the model for the page. encoding/json escapes <, > and & as \u003c,
// \u003e and \u0026 (and U+2028/U+2029), so no text from a results file can close the script
// element it is embedded in.
func chartJSON(m chartModel) ([]byte, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode chart data: %w", err)
	}
	return b, nil
}
