package resultstree

import (
	"math"

	"github.com/llmscale/llmscale/internal/fit"
	"github.com/llmscale/llmscale/internal/reportdata"
)

// curveReach is how far beyond the largest GPU count the fitted curves are drawn.
const curveReach = 1.25

// FromFit fills a Series from a fit result: the points' throughput, spread, repeats, speedup,
// efficiency and Karp–Flatt e(N), the Amdahl and USL fits with their curves, and the
// Karp–Flatt trend. The caller adds what fit does not know: Strategy, Prompts, MaxTokens,
// each point's Saturated flag and ExpIDs, and the Verdict. Name is r.Name.
func FromFit(r fit.Result) reportdata.Series {
	s := reportdata.Series{
		Name: r.Name, Baseline: r.Baseline,
		KarpFlattTrend: string(r.KarpFlatt.Trend), KarpFlattReason: r.KarpFlatt.Reason,
	}
	e := map[int]float64{}
	for _, p := range r.KarpFlatt.Points {
		e[p.GPUs] = p.E
	}
	maxN := 1
	for _, sc := range r.Scaling {
		pt := reportdata.SeriesPoint{
			GPUs: sc.GPUs, Throughput: sc.Mean, Repeats: sc.Repeats,
			Speedup: sc.Speedup, Efficiency: sc.Efficiency,
		}
		if sc.Repeats > 1 {
			pt.SD = reportdata.Opt(sc.SD)
		}
		if v, ok := e[sc.GPUs]; ok {
			pt.KarpFlatt = reportdata.Opt(v)
		}
		s.Points = append(s.Points, pt)
		maxN = max(maxN, sc.GPUs)
	}
	reach := float64(maxN) * curveReach
	s.Amdahl = fromAmdahl(r.Amdahl, reach)
	s.USL = fromUSL(r.USL, reach)
	return s
}

func fromAmdahl(a fit.AmdahlResult, reach float64) *reportdata.AmdahlFit {
	if math.IsNaN(a.S) || math.IsNaN(a.X1) || a.X1 <= 0 {
		return nil
	}
	return &reportdata.AmdahlFit{
		S: a.S, SLo: reportdata.Opt(a.SInterval.Lo), SHi: reportdata.Opt(a.SInterval.Hi),
		Confidence: a.Bootstrap.Confidence, X1: a.X1, R2: reportdata.Opt(a.Goodness.R2),
		Curve: reportdata.AmdahlCurve(a.X1, a.S, reach),
	}
}

func fromUSL(u fit.USLResult, reach float64) reportdata.USLFit {
	if !u.Fitted {
		return reportdata.USLFit{Reason: u.Reason}
	}
	return reportdata.USLFit{
		Fitted: true, Sigma: u.Sigma, Kappa: u.Kappa, Lambda: u.Lambda, Peak: u.Peak,
		Curve: reportdata.USLCurve(u.Lambda, u.Sigma, u.Kappa, reach),
	}
}
