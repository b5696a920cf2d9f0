// Package figures draws a report's main charts (package charts) as static SVG and PNG files
// with gonum/plot, for papers and slides: throughput against GPUs with the fits, efficiency
// and Karp–Flatt, latency CDFs, load curves and the Pareto view. It draws the same chart
// descriptions as the HTML page, so the two never disagree.
package figures

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/llmscale/llmscale/internal/report/charts"
	"github.com/llmscale/llmscale/internal/reportdata"
	"github.com/llmscale/llmscale/internal/results"
)

// DPI is the resolution of the PNG figures a report carries.
const DPI = 150

// Figure sizes.
const (
	panelW = 6.4 * vg.Inch
	panelH = 4.2 * vg.Inch
)

// figure is one static figure: a grid of plots written as name.svg and name.png.
type figure struct {
	name  string
	plots [][]*plot.Plot
}

// Write writes the main figures of d as SVG and PNG (at dpi) into dir (created if needed):
// throughput_<series> (throughput vs GPUs with the ideal line and the Amdahl and USL fits),
// efficiency_karp_flatt, latency_cdf_<series> (TTFT, ITL, E2E per GPU count), load_curves and
// pareto. Figures with nothing to draw are not written. It returns the first error.
func Write(dir string, d reportdata.Data, dpi int) error {
	if dpi <= 0 {
		return fmt.Errorf("figures: a resolution of %d dpi: want a positive number (figures.DPI is the report's)", dpi)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create figures folder: %w", err)
	}
	for _, f := range all(d) {
		for _, format := range []string{"svg", "png"} {
			path := filepath.Join(dir, f.name+"."+format)
			if err := results.WriteAtomic(path, func(w io.Writer) error { return f.write(w, format, dpi) }); err != nil {
				return fmt.Errorf("write figure: %w", err)
			}
		}
	}
	return nil
}

// Names lists the base names (without extension) Write writes for d.
func Names(d reportdata.Data) []string {
	var out []string
	for _, f := range all(d) {
		out = append(out, f.name)
	}
	return out
}

// all is every figure of d that has something to draw.
func all(d reportdata.Data) []figure {
	m := charts.Build(d)
	used := map[string]bool{}
	var out []figure
	add := func(name string, rows ...[]*plot.Plot) {
		var kept [][]*plot.Plot
		for _, r := range rows {
			if len(r) > 0 {
				kept = append(kept, r)
			}
		}
		if len(kept) > 0 {
			out = append(out, figure{name: name, plots: kept})
		}
	}
	for i, c := range m.Scaling {
		add(figureName("throughput", i, d.Series[i].Name, used), toPlot(c))
	}
	add(figureName("efficiency_karp_flatt", -1, "", used), append(toPlot(m.Efficiency), toPlot(m.KarpFlatt)...))
	for i, g := range m.Latency {
		var row []*plot.Plot
		for _, c := range g.Charts {
			c.Title += " · " + g.Label
			row = append(row, toPlot(c)...)
		}
		add(figureName("latency_cdf", i, g.Label, used), row)
	}
	var load [][]*plot.Plot
	for _, c := range m.Load {
		load = append(load, toPlot(c))
	}
	add(figureName("load_curves", -1, "", used), load...)
	add(figureName("pareto", -1, "", used), toPlot(m.Pareto))
	return out
}

// write draws the figure's plots in a grid, in the given format ("svg" or "png", at dpi).
func (f figure) write(w io.Writer, format string, dpi int) error {
	cols := 0
	for _, r := range f.plots {
		cols = max(cols, len(r))
	}
	grid := make([][]*plot.Plot, len(f.plots))
	for j, r := range f.plots {
		grid[j] = make([]*plot.Plot, cols)
		copy(grid[j], r)
	}
	width, height := panelW*vg.Length(cols), panelH*vg.Length(len(grid))
	var c vg.CanvasWriterTo
	switch format {
	case "svg":
		c = vgsvg.New(width, height)
	case "png":
		c = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(dpi))}
	default:
		return fmt.Errorf("figure %s: unknown format %q", f.name, format)
	}
	tiles := draw.Tiles{
		Rows: len(grid), Cols: cols, PadX: vg.Points(18), PadY: vg.Points(18),
		PadTop: vg.Points(8), PadBottom: vg.Points(8), PadLeft: vg.Points(8), PadRight: vg.Points(12),
	}
	// Tiles are drawn one by one rather than with plot.Align: Align moves the data areas of a
	// row into line but gonum draws legends relative to the tile, which then land above the
	// data area of some plots.
	dc := draw.New(c)
	for j := range grid {
		for i, p := range grid[j] {
			if p != nil {
				p.Draw(tiles.At(dc, i, j))
			}
		}
	}
	if _, err := c.WriteTo(w); err != nil {
		return fmt.Errorf("figure %s.%s: %w", f.name, format, err)
	}
	return nil
}

// slug makes a file-name-safe lower-case name: letters and digits, words joined by '-'.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		default:
			dash = true
		}
		if b.Len() >= 60 {
			break
		}
	}
	return b.String()
}
