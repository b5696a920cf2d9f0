package charts

import (
	"fmt"
	"math"
	"strings"

	"github.com/llmscale/llmscale/internal/report/format"
	"github.com/llmscale/llmscale/internal/reportdata"
)

// logGPUAxisFrom is the largest GPU count above which GPU axes become logarithmic (base 2).
const logGPUAxisFrom = 16

func gpuAxis(maxN int) Axis {
	a := Axis{Name: "GPUs (count)", Integer: true, Min: ptr(0)}
	if maxN > logGPUAxisFrom {
		a = Axis{Name: "GPUs (count, log scale)", Log: 2, Min: ptr(1)}
	}
	return a
}

func maxGPUs(s reportdata.Series) int {
	n := 1
	for _, p := range s.Points {
		n = max(n, p.GPUs)
	}
	return n
}

func MaxGPUsOf(ss []reportdata.Series) int {
	n := 1
	for _, s := range ss {
		n = max(n, maxGPUs(s))
	}
	return n
}

// throughputChart is one series' throughput against GPU count: measured points, the ideal
// linear line from the baseline, the fitted Amdahl and USL curves, and hollow markers on
// points where the server was not saturated.
func throughputChart(i int, s reportdata.Series) Chart {
	c := Chart{
		ID: fmt.Sprintf("scaling-%d", i), Title: s.Name,
		X: gpuAxis(maxGPUs(s)), Y: Axis{Name: "Output throughput (tokens/s)", Min: ptr(0)},
	}
	if len(s.Points) == 0 {
		c.Note = "No measured points in this series."
		return c
	}
	measured := Line{Name: "measured (mean of repeats)", Kind: KindLine, Color: colorMeasured}
	open := Line{Name: "not saturated (lower bound)", Kind: KindScatter, Color: colorOpen, Open: true}
	for _, p := range s.Points {
		measured.Data = append(measured.Data, Pt{float64(p.GPUs), p.Throughput})
		if !p.Saturated {
			open.Data = append(open.Data, Pt{float64(p.GPUs), p.Throughput})
		}
	}
	c.Series = append(c.Series, measured)
	if ideal := idealLine(s); len(ideal.Data) > 0 {
		c.Series = append(c.Series, ideal)
	}
	if a := s.Amdahl; a != nil && len(a.Curve) > 0 {
		c.Series = append(c.Series, curveLine(fmt.Sprintf("Amdahl fit (s = %s)", format.Param(a.S)), colorAmdahl, "dashed", a.Curve))
	}
	if s.USL.Fitted && len(s.USL.Curve) > 0 {
		c.Series = append(c.Series, curveLine(fmt.Sprintf("USL fit (σ = %s, κ = %s)", format.Param(s.USL.Sigma), format.Param(s.USL.Kappa)), colorUSL, "dotted", s.USL.Curve))
	}
	if len(open.Data) > 0 {
		c.Series = append(c.Series, open)
	}
	c.Caption = fitCaption(s)
	return c
}

// fitCaption states the fitted parameters, or why a fit is missing.
func fitCaption(s reportdata.Series) string {
	var parts []string
	if a := s.Amdahl; a != nil {
		p := fmt.Sprintf("Amdahl: s = %s", format.Param(a.S))
		if a.SLo != nil && a.SHi != nil {
			p += fmt.Sprintf(" [%s–%s]", format.Param(*a.SLo), format.Param(*a.SHi))
		}
		p += fmt.Sprintf(", X1 = %s tokens/s", format.Num(a.X1))
		if a.R2 != nil {
			p += fmt.Sprintf(", R² = %s", format.Param(*a.R2))
		}
		parts = append(parts, p+".")
	}
	switch u := s.USL; {
	case u.Fitted && u.Peak > 0:
		parts = append(parts, fmt.Sprintf("USL: σ = %s, κ = %s, peak near N* ≈ %.0f GPUs.", format.Param(u.Sigma), format.Param(u.Kappa), u.Peak))
	case u.Fitted:
		parts = append(parts, fmt.Sprintf("USL: σ = %s, κ = %s, no peak.", format.Param(u.Sigma), format.Param(u.Kappa)))
	case strings.TrimSpace(u.Reason) != "":
		r := strings.TrimSuffix(strings.TrimSpace(u.Reason), ".") + "."
		if !strings.HasPrefix(r, "USL") {
			r = "USL not fitted: " + r
		}
		parts = append(parts, r)
	}
	return strings.Join(parts, " ")
}

// idealLine is X(N0)·N/N0 from the baseline to the end of the fitted curves.
func idealLine(s reportdata.Series) Line {
	l := Line{Name: "ideal linear scaling", Kind: KindCurve, Color: colorIdeal, Dash: "dashed"}
	base := s.Points[0]
	for _, p := range s.Points {
		if p.GPUs == s.Baseline {
			base = p
		}
	}
	if base.GPUs < 1 || base.Throughput <= 0 {
		return l
	}
	end := float64(maxGPUs(s))
	if s.Amdahl != nil && len(s.Amdahl.Curve) > 0 {
		end = math.Max(end, s.Amdahl.Curve[len(s.Amdahl.Curve)-1].X)
	}
	per := base.Throughput / float64(base.GPUs)
	start := 1.0
	l.Data = []Pt{{start, per * start}, {end, per * end}}
	return l
}

func curveLine(name, color, dash string, xy []reportdata.XY) Line {
	l := Line{Name: name, Kind: KindCurve, Color: color, Dash: dash}
	for _, p := range xy {
		l.Data = append(l.Data, Pt{p.X, p.Y})
	}
	return l
}

// efficiencyChart draws every series' efficiency (speedup / ideal) against GPU count.
func efficiencyChart(ss []reportdata.Series) Chart {
	maxN := MaxGPUsOf(ss)
	c := Chart{
		ID: "efficiency", Title: "Parallel efficiency",
		X: gpuAxis(maxN), Y: Axis{Name: "Efficiency = speedup / ideal (%)", Percent: true, Min: ptr(0)},
	}
	for i, s := range ss {
		l := Line{Name: s.Name, Kind: KindLine, Color: SeriesColor(i)}
		for _, p := range s.Points {
			l.Data = append(l.Data, Pt{float64(p.GPUs), p.Efficiency})
		}
		if len(l.Data) > 0 {
			c.Series = append(c.Series, l)
		}
	}
	if len(c.Series) == 0 {
		c.Note = "No scaling series."
		return c
	}
	c.Marks = []Mark{{Axis: "y", Value: 1, Label: "ideal (100 %)", Color: colorIdeal}}
	return c
}

// karpFlattChart draws every series' Karp–Flatt e(N): flat is a fixed serial part, rising is
// overhead that grows with N.
func karpFlattChart(ss []reportdata.Series) Chart {
	c := Chart{
		ID: "karp-flatt", Title: "Karp–Flatt experimentally determined serial fraction e(N)",
		X: gpuAxis(MaxGPUsOf(ss)), Y: Axis{Name: "e(N) (fraction of work, 0–1)", Min: ptr(0)},
	}
	for i, s := range ss {
		l := Line{Name: fmt.Sprintf("%s — %s", s.Name, trendWord(s.KarpFlattTrend)), Kind: KindLine, Color: SeriesColor(i)}
		for _, p := range s.Points {
			if p.KarpFlatt != nil {
				l.Data = append(l.Data, Pt{float64(p.GPUs), *p.KarpFlatt})
			}
		}
		if len(l.Data) > 0 {
			c.Series = append(c.Series, l)
		}
	}
	if len(c.Series) == 0 {
		c.Note = "Karp–Flatt e(N) needs two or more GPU counts in a series."
	}
	if minY(c.Series) < 0 { // super-linear points: e(N) below zero must stay in view
		c.Y.Min = nil
		c.Marks = []Mark{{Axis: "y", Value: 0, Label: "below 0: super-linear", Color: colorIdeal}}
	}
	return c
}

// minY is the smallest finite y of the lines, 0 when there is none.
func minY(ls []Line) float64 {
	m := 0.0
	for _, l := range ls {
		for _, p := range l.Data {
			if finite(p[1]) && p[1] < m {
				m = p[1]
			}
		}
	}
	return m
}

func trendWord(t string) string {
	switch t {
	case "rising", "flat", "falling":
		return t
	}
	return "trend unknown"
}
