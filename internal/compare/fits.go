package compare

import (
	"math"
	"slices"
	"strings"

	"github.com/llmscale/llmscale/internal/aggregate"
	"github.com/llmscale/llmscale/internal/diagnose"
	"github.com/llmscale/llmscale/internal/scaling"
)

// FitChange is one scaling series on both sides (A or B nil when only one side has it).
type FitChange struct {
	Series             string
	A, B               *scaling.Fit
	VerdictA, VerdictB string // the series verdict's label
}

// Serial returns a fit's Amdahl serial fraction and its interval; ok is false when not fitted.
func Serial(f *scaling.Fit) (s, lo, hi float64, ok bool) {
	if f == nil || f.Status != scaling.StatusOK {
		return math.NaN(), math.NaN(), math.NaN(), false
	}
	a := f.Result.Amdahl
	return a.S, a.SInterval.Lo, a.SInterval.Hi, true
}

// Efficiency returns the parallel efficiency at the largest GPU count of the series up to
// limit (0: no limit), and that count, so both sides are read at the same count.
func Efficiency(f *scaling.Fit, limit int) (eff float64, gpus int, ok bool) {
	if f == nil || f.Status != scaling.StatusOK {
		return math.NaN(), 0, false
	}
	for i := len(f.Result.Scaling) - 1; i >= 0; i-- {
		if sc := f.Result.Scaling[i]; limit == 0 || sc.GPUs <= limit {
			return sc.Efficiency, sc.GPUs, true
		}
	}
	return math.NaN(), 0, false
}

// CommonGPUs is the largest GPU count both sides' series reached (0 when one side is missing).
func (c FitChange) CommonGPUs() int {
	_, na, okA := Efficiency(c.A, 0)
	_, nb, okB := Efficiency(c.B, 0)
	if !okA || !okB {
		return 0
	}
	return min(na, nb)
}

// SerialBeyond reports whether the serial fractions differ beyond their intervals (they do not
// overlap); false when either is missing.
func (c FitChange) SerialBeyond() bool {
	_, la, ha, okA := Serial(c.A)
	_, lb, hb, okB := Serial(c.B)
	if !okA || !okB || math.IsNaN(la+ha+lb+hb) {
		return false
	}
	return hb < la || ha < lb
}

// compareFits pairs the series of both sides by name, A's order first.
func compareFits(a, b Campaign) []FitChange {
	var out []FitChange
	for i := range a.Fits {
		f := &a.Fits[i]
		c := FitChange{Series: f.Series.Name, A: f, VerdictA: seriesVerdict(a.Diagnosis, f.Series.Name)}
		if j := slices.IndexFunc(b.Fits, func(g scaling.Fit) bool { return g.Series.Name == f.Series.Name }); j >= 0 {
			c.B, c.VerdictB = &b.Fits[j], seriesVerdict(b.Diagnosis, f.Series.Name)
		}
		out = append(out, c)
	}
	for i := range b.Fits {
		g := &b.Fits[i]
		if !slices.ContainsFunc(a.Fits, func(f scaling.Fit) bool { return f.Series.Name == g.Series.Name }) {
			out = append(out, FitChange{Series: g.Series.Name, B: g, VerdictB: seriesVerdict(b.Diagnosis, g.Series.Name)})
		}
	}
	return out
}

func seriesVerdict(d diagnose.Diagnosis, name string) string {
	if v, ok := d.SeriesVerdict(name); ok {
		return v.Label
	}
	return ""
}

// VerdictChange is the bottleneck verdict of one matched point on both sides (repeats that
// disagree are listed together).
type VerdictChange struct {
	Label   string
	A, B    string
	Changed bool
}

func compareVerdicts(points []PointResult) []VerdictChange {
	out := make([]VerdictChange, 0, len(points))
	for _, p := range points {
		a, b := verdictLabels(p.Point.A), verdictLabels(p.Point.B)
		out = append(out, VerdictChange{Label: p.Label, A: a, B: b, Changed: a != b})
	}
	return out
}

func verdictLabels(rows []*aggregate.Row) string {
	var labels []string
	for _, r := range rows {
		if l := diagnose.Experiment(r).Verdict.Label; !slices.Contains(labels, l) {
			labels = append(labels, l)
		}
	}
	return strings.Join(labels, " / ")
}
