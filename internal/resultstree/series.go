package resultstree

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/llmscale/llmscale/internal/aggregate"
	"github.com/llmscale/llmscale/internal/diagnose"
	"github.com/llmscale/llmscale/internal/fit"
	"github.com/llmscale/llmscale/internal/reportdata"
	"github.com/llmscale/llmscale/internal/scaling"
)

// buildSeries makes a report series of every fitted scaling series: the fit's points and
// curves (FromFit), each point's saturation and experiments, and the series' verdict. A
// series that could not be fitted keeps its measured points.
func buildSeries(fits []scaling.Fit, d diagnose.Diagnosis) []reportdata.Series {
	out := make([]reportdata.Series, 0, len(fits))
	for _, f := range fits {
		r := f.Result
		if f.Status != scaling.StatusOK {
			r = fit.Result{Name: f.Series.Name}
			if sc, _, err := fit.Speedups(f.Series.FitSeries()); err == nil {
				r.Scaling, r.Baseline = sc, sc[0].GPUs
			}
		}
		s := FromFit(r)
		s.Name, s.Strategy, s.Prompts, s.MaxTokens = f.Series.Name, f.Series.Strategy, f.Series.Prompts, f.Series.MaxTokens
		if f.Status != scaling.StatusOK {
			s.KarpFlattReason = "not fitted: " + f.Reason
		}
		for i := range s.Points {
			markPoint(&s.Points[i], f.Series.Points)
		}
		if v, ok := d.SeriesVerdict(f.Series.Name); ok {
			s.Verdict = *fromVerdict(v)
		}
		out = append(out, s)
	}
	return out
}

// markPoint sets a point's experiments (the saturation experiment of each repeat, in repeat
// order) and whether every repeat saturated the server.
func markPoint(p *reportdata.SeriesPoint, pts []scaling.Point) {
	p.Saturated = true
	for _, q := range pts {
		if q.GPUs != p.GPUs {
			continue
		}
		p.ExpIDs = append(p.ExpIDs, q.ExpID)
		p.Saturated = p.Saturated && q.Saturated
	}
	p.Saturated = p.Saturated && len(p.ExpIDs) > 0
}

// addGoodput gives each series point the completed and SLO-meeting requests/s of its
// experiments, so the answer can tell goodput's scaling beside throughput's.
func addGoodput(series []reportdata.Series, rows []*aggregate.Row) {
	byID := make(map[string]*aggregate.Row, len(rows))
	for _, r := range rows {
		byID[r.ExpID] = r
	}
	for i := range series {
		for j := range series[i].Points {
			p := &series[i].Points[j]
			var rs []*aggregate.Row
			for _, id := range p.ExpIDs {
				if r := byID[id]; r != nil {
					rs = append(rs, r)
				}
			}
			p.RequestThroughput = meanOf(rs, func(r *aggregate.Row) *float64 { return r.RequestThroughput })
			if !finite(p.RequestThroughput) {
				p.RequestThroughput = 0
			}
			p.Goodput = meanOpt(rs, func(r *aggregate.Row) *float64 { return r.Goodput })
		}
	}
}

// curveKey is one server configuration under one workload: the experiments of a load curve.
type curveKey struct {
	config, engine, model, prompts, mode string
	maxTokens                            int64
}

// buildLoadCurves makes one load curve per server configuration and workload from the
// experiments that completed with a throughput, in the order of rows: per load level the means
// over repeats of output throughput, TTFT p50 and TPOT p50.
func buildLoadCurves(rows []*aggregate.Row) []reportdata.LoadCurve {
	byKey := map[curveKey][]*aggregate.Row{}
	var order []curveKey
	models := map[string]bool{}
	for _, r := range rows {
		models[r.Engine+" "+r.Model] = true
		if !scaling.Usable(r) {
			continue
		}
		k := curveKey{config: configLabel(r), engine: r.Engine, model: r.Model, prompts: r.Prompts, mode: r.Mode, maxTokens: r.MaxTokens}
		if _, ok := byKey[k]; !ok {
			order = append(order, k)
		}
		byKey[k] = append(byKey[k], r)
	}
	out := make([]reportdata.LoadCurve, 0, len(order))
	for _, k := range order {
		lc := loadCurve(byKey[k])
		lc.Config = fmt.Sprintf("%s · %s / %d tok", k.config, k.prompts, k.maxTokens)
		if len(models) > 1 {
			lc.Config += " · " + k.engine + " " + k.model
		}
		out = append(out, lc)
	}
	return out
}

func loadCurve(rs []*aggregate.Row) reportdata.LoadCurve {
	lc := reportdata.LoadCurve{LoadKind: rs[0].Mode}
	var levels []float64
	byLevel := map[float64][]*aggregate.Row{}
	for _, r := range rs {
		if _, ok := byLevel[r.LoadLevel]; !ok {
			levels = append(levels, r.LoadLevel)
		}
		byLevel[r.LoadLevel] = append(byLevel[r.LoadLevel], r)
	}
	slices.Sort(levels)
	for _, l := range levels {
		lr := byLevel[l]
		slices.SortStableFunc(lr, func(a, b *aggregate.Row) int { return cmp.Compare(a.Repeat, b.Repeat) })
		lc.Points = append(lc.Points, reportdata.LoadPoint{
			Load: l, ExpID: lr[0].ExpID,
			Throughput:        meanOf(lr, func(r *aggregate.Row) *float64 { return r.OutputThroughput }),
			TTFTP50:           meanOf(lr, func(r *aggregate.Row) *float64 { return r.TTFTP50 }),
			TPOTP50:           meanOf(lr, func(r *aggregate.Row) *float64 { return r.TPOTP50 }),
			RequestThroughput: meanOf(lr, func(r *aggregate.Row) *float64 { return r.RequestThroughput }),
			Goodput:           meanOpt(lr, func(r *aggregate.Row) *float64 { return r.Goodput }),
		})
	}
	lc.Saturation, lc.SaturationReason = curveSaturation(rs, lc.Points)
	return lc
}

// meanOf is the mean of a column over rows, ignoring nulls; NaN when all are null.
// meanOpt is meanOf, nil when no row has the value (a campaign without SLOs has no goodput).
func meanOpt(rs []*aggregate.Row, col func(*aggregate.Row) *float64) *float64 {
	if v := meanOf(rs, col); finite(v) {
		return &v
	}
	return nil
}

func meanOf(rs []*aggregate.Row, col func(*aggregate.Row) *float64) float64 {
	sum, n := 0.0, 0
	for _, r := range rs {
		if v := col(r); v != nil && finite(*v) {
			sum += *v
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}

// paretoOf is ParetoFromExperiments without the points whose numbers are missing.
func paretoOf(exps []reportdata.Experiment) []reportdata.ParetoPoint {
	var out []reportdata.ParetoPoint
	for _, p := range reportdata.ParetoFromExperiments(exps) {
		if finite(p.PerGPU) && finite(p.PerUser) {
			out = append(out, p)
		}
	}
	return out
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
