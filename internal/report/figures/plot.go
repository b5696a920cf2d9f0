package figures

import (
	"fmt"
	"image/color"
	"math"
	"strconv"
	"strings"

	"github.com/llmscale/llmscale/internal/report/charts"
	"github.com/llmscale/llmscale/internal/report/format"
	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// toPlot draws a chart description with gonum/plot, as the page's script draws it with
// ECharts: the static figures and the HTML show the same series. gonum/plot has one y axis per
// plot, so every right-hand-axis (Y2) series gets a plot of its own, on a linear axis with the
// Y2 axis' unit (gonum misplaces the title of a logarithmic y axis). A chart with a note gives
// no plot.
func toPlot(c charts.Chart) []*plot.Plot {
	if c.Note != "" || len(c.Series) == 0 {
		return nil
	}
	left := newPlot(c.Title, c.X, c.Y)
	addSeries(left, c, c.Y, true, func(s charts.Line) bool { return s.Axis == 0 })
	out := []*plot.Plot{left}
	if c.Y2 == nil {
		return out
	}
	for _, s := range c.Series {
		if s.Axis != 1 {
			continue
		}
		y := charts.Axis{Name: s.Name + unitOf(c.Y2.Name), Min: ptr(0)}
		p := newPlot(c.Title+" — "+s.Name, c.X, y)
		name := s.Name
		addSeries(p, c, y, false, func(o charts.Line) bool { return o.Axis == 1 && o.Name == name })
		out = append(out, p)
	}
	return out
}

// unitOf returns the first parenthesised part of an axis title, with a leading space: " (ms)".
func unitOf(title string) string {
	i := strings.Index(title, "(")
	j := strings.Index(title, ")")
	if i < 0 || j < i {
		return ""
	}
	return " " + title[i:j+1]
}

func newPlot(title string, x, y charts.Axis) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = sans(12, xfont.WeightBold)
	p.Title.Padding = vg.Points(6)
	styleAxis(&p.X, x)
	styleAxis(&p.Y, y)
	p.Add(gridLines())
	p.Legend.TextStyle.Font = sans(9, xfont.WeightNormal)
	p.Legend.ThumbnailWidth = vg.Points(22)
	p.Legend.Padding = vg.Points(1)
	return p
}

func styleAxis(a *plot.Axis, ax charts.Axis) {
	a.Label.Text = ax.Name
	a.Label.TextStyle.Font = sans(10.5, xfont.WeightNormal)
	a.Tick.Label.Font = sans(9, xfont.WeightNormal)
	a.Color, a.Tick.Color = gray(0x9C), gray(0x9C)
	switch {
	case ax.Log == 2:
		a.Scale = plot.LogScale{}
		a.Tick.Marker = log2Ticks{}
	case ax.Log > 0:
		a.Scale = plot.LogScale{}
		a.Tick.Marker = inRange{plot.LogTicks{Prec: -1}}
	case ax.Percent:
		a.Tick.Marker = percentTicks{}
	case ax.Integer:
		a.Tick.Marker = integerTicks{}
	default:
		a.Tick.Marker = plainTicks{}
	}
}

// plainTicks are gonum's default ticks labelled without trailing zeros, with thousands
// separators (2,500 rather than 2500.00).
type plainTicks struct{}

func (plainTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = format.GroupThousands(strconv.FormatFloat(format.Sig(ticks[i].Value, 6), 'f', -1, 64))
		}
	}
	return ticks
}

// sans is Liberation Sans (embedded by gonum/plot) at a size in points.
func sans(size vg.Length, weight xfont.Weight) font.Font {
	return font.Font{Typeface: "Liberation", Variant: "Sans", Weight: weight, Size: size}
}

// integerStep is the smallest of 1, 2, 5, 10, 20, 50… that cuts span into ten steps or fewer.
func integerStep(span float64) float64 {
	for mag := 1.0; mag < 1e15; mag *= 10 {
		for _, s := range []float64{1, 2, 5} {
			if span/(s*mag) <= 10 {
				return s * mag
			}
		}
	}
	return math.Max(span/10, 1)
}

// integerTicks puts ticks on whole numbers only (GPU counts, users), at most about ten.
type integerTicks struct{}

func (integerTicks) Ticks(lo, hi float64) []plot.Tick {
	step := integerStep(hi - lo)
	var ticks []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi; v += step {
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', 0, 64)})
	}
	return ticks
}

// inRange drops the ticks a ticker puts outside the axis (LogTicks rounds to whole decades),
// whose labels would otherwise squeeze the data area.
type inRange struct{ plot.Ticker }

func (r inRange) Ticks(lo, hi float64) []plot.Tick {
	if !(lo > 0 && hi > lo) || !finite(hi) { // LogTicks panics on such a range
		return nil
	}
	var out []plot.Tick
	for _, t := range r.Ticker.Ticks(lo, hi) {
		if t.Value >= lo && t.Value <= hi {
			out = append(out, t)
		}
	}
	return out
}

// log2Ticks labels the powers of two inside the axis (users 16…256, GPUs 1…8: the levels
// such campaigns use), as the HTML charts do; LogTicks would label only whole decades, which
// can leave a 16–256 axis with the single label 100. Beyond a dozen powers every other one is
// labelled; an axis with none inside falls back to LogTicks.
type log2Ticks struct{}

func (log2Ticks) Ticks(lo, hi float64) []plot.Tick {
	if !(lo > 0 && hi > lo) || !finite(hi) {
		return nil
	}
	first, last := int(math.Ceil(math.Log2(lo))), int(math.Floor(math.Log2(hi)))
	if last < first {
		return inRange{plot.LogTicks{Prec: -1}}.Ticks(lo, hi)
	}
	every := 1
	if last-first >= 12 {
		every = 2
	}
	var out []plot.Tick
	for k := first; k <= last; k++ {
		t := plot.Tick{Value: math.Ldexp(1, k)}
		if (k-first)%every == 0 {
			t.Label = format.GroupThousands(strconv.FormatFloat(t.Value, 'f', -1, 64))
		}
		out = append(out, t)
	}
	return out
}

// percentTicks labels ratios as percentages.
type percentTicks struct{}

func (percentTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = strconv.FormatFloat(format.Sig(ticks[i].Value*100, 6), 'g', -1, 64) + "%"
		}
	}
	return ticks
}

func gridLines() *plotter.Grid {
	g := plotter.NewGrid()
	g.Vertical.Color, g.Horizontal.Color = gray(0xE5), gray(0xE5)
	g.Vertical.Width, g.Horizontal.Width = vg.Points(0.5), vg.Points(0.5)
	return g
}

func gray(v uint8) color.Color { return color.RGBA{R: v, G: v, B: v, A: 0xFF} }

// hexColor parses "#RRGGBB"; anything else is a neutral grey.
func hexColor(s string) color.Color {
	v, err := strconv.ParseUint(s[min(1, len(s)):], 16, 32)
	if len(s) != 7 || s[0] != '#' || err != nil {
		return gray(0x66)
	}
	return color.RGBA{R: uint8(v >> 16), G: uint8(v >> 8), B: uint8(v), A: 0xFF}
}

// addSeries adds the chart's series that keep selects, on axis ax, then (on the main plot)
// its bands and marks, then the axis limits, and puts the legend in the emptiest corner.
func addSeries(p *plot.Plot, c charts.Chart, ax charts.Axis, main bool, keep func(charts.Line) bool) {
	var all []charts.Pt
	for _, s := range c.Series {
		if !keep(s) {
			continue
		}
		data := positive(s.Data, c.X.Log > 0, ax.Log > 0)
		if thumb := addLine(p, s, data); thumb != nil {
			p.Legend.Add(s.Name, thumb)
		}
		all = append(all, data...)
	}
	applyLimits(p, c.X, ax)
	if main {
		addBands(p, c.Bands)
		addMarks(p, c.Marks)
	}
	placeLegend(p, all)
}

// positive drops points a logarithmic axis cannot show.
func positive(data []charts.Pt, logX, logY bool) []charts.Pt {
	if !logX && !logY {
		return data
	}
	out := make([]charts.Pt, 0, len(data))
	for _, d := range data {
		if (!logX || d[0] > 0) && (!logY || !(d[1] <= 0)) {
			out = append(out, d)
		}
	}
	return out
}

// addLine draws one series, split at gaps (NaN), and returns its legend thumbnail.
func addLine(p *plot.Plot, s charts.Line, data []charts.Pt) plot.Thumbnailer {
	col := hexColor(s.Color)
	var thumb plot.Thumbnailer
	for _, seg := range segments(data) {
		xys := make(plotter.XYs, len(seg))
		for i, d := range seg {
			xys[i] = plotter.XY{X: d[0], Y: d[1]}
		}
		if s.Kind == charts.KindScatter {
			sc, err := plotter.NewScatter(xys)
			if err != nil {
				continue
			}
			sc.GlyphStyle = glyph(s, col)
			p.Add(sc)
			thumb = sc
			addLabels(p, s, seg)
			continue
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			continue
		}
		l.LineStyle = lineStyle(s, col)
		if s.Kind == charts.KindStep {
			l.StepStyle = plotter.PostStep
		}
		p.Add(l)
		thumb = l
		if s.Kind == charts.KindLine {
			if sc, err := plotter.NewScatter(xys); err == nil {
				sc.GlyphStyle = draw.GlyphStyle{Color: col, Radius: vg.Points(2.8), Shape: draw.CircleGlyph{}}
				p.Add(sc)
			}
		}
	}
	return thumb
}

// addLabels writes a scatter's point labels (the Pareto view's configurations) beside them.
func addLabels(p *plot.Plot, s charts.Line, seg []charts.Pt) {
	if len(s.Labels) != len(s.Data) {
		return
	}
	xyl := plotter.XYLabels{}
	for _, d := range seg {
		for i, q := range s.Data {
			if q == d {
				xyl.XYs = append(xyl.XYs, plotter.XY{X: d[0], Y: d[1]})
				xyl.Labels = append(xyl.Labels, s.Labels[i])
				break
			}
		}
	}
	if l, err := plotter.NewLabels(xyl); err == nil {
		for i := range l.TextStyle {
			l.TextStyle[i].Font = sans(7.5, xfont.WeightNormal)
			l.TextStyle[i].Color = gray(0x6B)
			l.Offset = vg.Point{X: vg.Points(4), Y: vg.Points(3)}
		}
		p.Add(l)
	}
}

func glyph(s charts.Line, col color.Color) draw.GlyphStyle {
	if s.Open {
		return draw.GlyphStyle{Color: col, Radius: vg.Points(6), Shape: ring{width: vg.Points(1.5)}}
	}
	return draw.GlyphStyle{Color: col, Radius: vg.Points(3.5), Shape: draw.CircleGlyph{}}
}

func lineStyle(s charts.Line, col color.Color) draw.LineStyle {
	ls := draw.LineStyle{Color: col, Width: vg.Points(1.8)}
	switch s.Dash {
	case "dashed":
		ls.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
	case "dotted":
		ls.Dashes = []vg.Length{vg.Points(1.5), vg.Points(2.5)}
	}
	return ls
}

// ring is a hollow circle with a visible stroke (plotter's RingGlyph is hairline).
type ring struct{ width vg.Length }

func (r ring) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, at vg.Point) {
	c.SetLineStyle(draw.LineStyle{Color: sty.Color, Width: r.width})
	var path vg.Path
	path.Move(vg.Point{X: at.X + sty.Radius, Y: at.Y})
	path.Arc(at, sty.Radius, 0, 2*math.Pi)
	path.Close()
	c.Stroke(path)
}

// segments splits data at points that are not finite.
func segments(data []charts.Pt) [][]charts.Pt {
	var out [][]charts.Pt
	var cur []charts.Pt
	for _, d := range data {
		if !finite(d[0]) || !finite(d[1]) {
			if len(cur) > 0 {
				out = append(out, cur)
			}
			cur = nil
			continue
		}
		cur = append(cur, d)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

func applyLimits(p *plot.Plot, x, y charts.Axis) {
	set := func(a *plot.Axis, ax charts.Axis) {
		if ax.Log > 0 && !(a.Min > 0 && a.Max > a.Min && finite(a.Max)) {
			// Nothing positive to show on a log scale: a linear one says so without failing.
			a.Scale, a.Tick.Marker = plot.LinearScale{}, plainTicks{}
			ax.Log = 0
		}
		if ax.Min != nil && ax.Log == 0 {
			a.Min = *ax.Min
		}
		if ax.Max != nil {
			a.Max = *ax.Max
		}
		if a.Max <= a.Min {
			a.Max = a.Min + 1
		}
	}
	set(&p.X, x)
	set(&p.Y, y)
}

func addBands(p *plot.Plot, bands []charts.Band) {
	for _, b := range bands {
		poly, err := plotter.NewPolygon(plotter.XYs{
			{X: b.From, Y: p.Y.Min}, {X: b.To, Y: p.Y.Min}, {X: b.To, Y: p.Y.Max}, {X: b.From, Y: p.Y.Max},
		})
		if err != nil {
			continue
		}
		poly.Color = color.RGBA{R: 0x00, G: 0x72, B: 0xB2, A: 0x14}
		poly.LineStyle.Width = 0
		p.Add(poly)
	}
}

func addMarks(p *plot.Plot, marks []charts.Mark) {
	for _, m := range marks {
		xys := plotter.XYs{{X: m.Value, Y: p.Y.Min}, {X: m.Value, Y: p.Y.Max}}
		if m.Axis == "y" {
			xys = plotter.XYs{{X: p.X.Min, Y: m.Value}, {X: p.X.Max, Y: m.Value}}
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			continue
		}
		l.LineStyle = draw.LineStyle{Color: hexColor(m.Color), Width: vg.Points(1.2), Dashes: []vg.Length{vg.Points(4), vg.Points(3)}}
		p.Add(l)
		p.Legend.Add(m.Label, l)
	}
}

// placeLegend puts the legend in the corner of the data area with the fewest points.
func placeLegend(p *plot.Plot, data []charts.Pt) {
	var counts [4]int // top-left, top-right, bottom-left, bottom-right
	nx := func(v float64) float64 { return p.X.Norm(v) }
	ny := func(v float64) float64 { return p.Y.Norm(v) }
	for _, d := range data {
		x, y := nx(d[0]), ny(d[1])
		if math.IsNaN(x) || math.IsNaN(y) {
			continue
		}
		k := 0
		if x > 0.5 {
			k++
		}
		if y < 0.5 {
			k += 2
		}
		counts[k]++
	}
	best := 0
	for k := range counts {
		if counts[k] < counts[best] {
			best = k
		}
	}
	p.Legend.Top, p.Legend.Left = best < 2, best%2 == 0
	p.Legend.XOffs, p.Legend.YOffs = vg.Points(6), vg.Points(-6)
	if !p.Legend.Left {
		p.Legend.XOffs = vg.Points(-6)
	}
	if !p.Legend.Top {
		p.Legend.YOffs = vg.Points(6)
	}
}

func figureName(prefix string, i int, name string, used map[string]bool) string {
	base := prefix
	if s := slug(name); s != "" {
		base += "_" + s
	} else if i >= 0 {
		base += "_" + strconv.Itoa(i+1)
	}
	out := base
	for k := 2; used[out]; k++ {
		out = fmt.Sprintf("%s_%d", base, k)
	}
	used[out] = true
	return out
}

func ptr(v float64) *float64 { return &v }

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
