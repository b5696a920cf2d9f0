// Package scaling forms the scaling series of a campaign from its summary rows — experiments
// that differ only in GPU count under one parallelism strategy — picks each point's saturation
// throughput, runs the fits of package fit on every series and lays the results out as the
// rows of amdahl_fit.csv and scaling_fits.parquet. docs/analysis.md ("Scaling series") says
// how series are formed.
package scaling

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/llmscale/llmscale/internal/aggregate"
	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/sweep"
)

// Strategy codes of the parallelism dimension a series grows; mixes are spelt like "tp2xdp"
// (TP fixed at 2, DP growing) and labelled "TP2×DPn".
const (
	StrategyTP    = "tp"    // TP-only: dp = pp = 1, tp = N
	StrategyDP    = "dp"    // DP-only: tp = pp = 1, dp = N
	StrategyPP    = "pp"    // PP-only: tp = dp = 1, pp = N
	StrategyTable = "table" // a series of a user's table (fit --input)
)

// PlateauTolerance is how close (relative) the best throughput of a server configuration may
// be to the throughput at the next lower load level for the best level to count as a plateau:
// more load did not buy more than 5 % throughput, so the server was saturated there.
const PlateauTolerance = sweep.PlateauGain

// Point is one repeat of one GPU count of a series: the saturation throughput of that server
// configuration, i.e. the best output throughput over its load levels.
type Point struct {
	GPUs       int
	Repeat     int
	Throughput float64 // output tokens/s of ExpID
	ExpID      string  // the experiment of the best load level
	LoadLevel  float64 // its users, concurrency or rate
	Levels     int     // load levels measured (done experiments with throughput)
	// Saturated is true when some load level of this configuration saturated the server (the
	// aggregate's saturated flag) or throughput reached a plateau over load levels; otherwise
	// Throughput is a lower bound of the server's capacity. SaturatedBy says which.
	Saturated   bool
	SaturatedBy string
}

// Series is one scaling series.
type Series struct {
	Name          string // unique, e.g. "TP-only · medium · 128 tok · B64"
	Strategy      string // tp, dp, pp, tp2xdp, …, table
	StrategyLabel string // TP-only, DP-only, TP2×DPn, table
	Grow          string // the dimension that grows: tp, dp or pp ("" for a table)
	Engine, Model string
	Prompts       string
	MaxTokens     int
	BatchSize     int
	MBT           int
	Mode          string
	ExtraFactors  string
	Points        []Point // by GPU count, then repeat
}

// GPUCounts lists the distinct GPU counts, ascending.
func (s Series) GPUCounts() []int {
	var out []int
	for _, p := range s.Points {
		if !slices.Contains(out, p.GPUs) {
			out = append(out, p.GPUs)
		}
	}
	slices.Sort(out)
	return out
}

// configKey identifies a server configuration under one set of non-GPU factors and one
// repeat: the experiments whose best load level is the saturation point.
type configKey struct {
	group      groupKey
	tp, dp, pp int
	gpus       int
	repeat     int
}

// groupKey is every factor except the parallelism, the GPU count and the load level.
type groupKey struct {
	engine, model, prompts, mode, extra string
	maxTokens, batch, mbt               int
}

func groupOf(r *aggregate.Row) groupKey {
	return groupKey{engine: r.Engine, model: r.Model, prompts: r.Prompts, mode: r.Mode, extra: r.ExtraFactors,
		maxTokens: int(r.MaxTokens), batch: int(r.BatchSize), mbt: int(r.MBT)}
}

// Usable reports whether a row can be a point: done, with a positive output throughput.
func Usable(r *aggregate.Row) bool {
	return r.Status == results.StatusDone && r.OutputThroughput != nil && *r.OutputThroughput > 0
}

// configPoint is the saturation point of one server configuration and repeat.
type configPoint struct {
	key configKey
	Point
}

// saturationPoints picks, for every server configuration and repeat, the best throughput over
// load levels.
func saturationPoints(rows []aggregate.Row) []configPoint {
	byKey := map[configKey][]*aggregate.Row{}
	var order []configKey
	for i := range rows {
		r := &rows[i]
		if !Usable(r) {
			continue
		}
		k := configKey{group: groupOf(r), tp: int(r.TP), dp: int(r.DP), pp: int(r.PP), gpus: int(r.GPUs), repeat: int(r.Repeat)}
		if _, ok := byKey[k]; !ok {
			order = append(order, k)
		}
		byKey[k] = append(byKey[k], r)
	}
	out := make([]configPoint, 0, len(order))
	for _, k := range order {
		out = append(out, configPoint{key: k, Point: bestLevel(byKey[k], k)})
	}
	return out
}

// bestLevel is the point of the load level with the best output throughput; where a sweep
// ran, its knee (sweepKnee).
func bestLevel(rs []*aggregate.Row, k configKey) Point {
	if p, ok := sweepKnee(rs, k); ok {
		return p
	}
	slices.SortStableFunc(rs, func(a, b *aggregate.Row) int { return cmp.Compare(a.LoadLevel, b.LoadLevel) })
	best := 0
	for i, r := range rs {
		if *r.OutputThroughput > *rs[best].OutputThroughput {
			best = i
		}
	}
	b := rs[best]
	p := Point{GPUs: k.gpus, Repeat: k.repeat, Throughput: *b.OutputThroughput, ExpID: b.ExpID, LoadLevel: b.LoadLevel, Levels: len(rs)}
	for _, r := range rs {
		if r.Saturated {
			p.Saturated, p.SaturatedBy = true, "experiment "+r.ExpID+": "+r.SaturatedReason
			break
		}
	}
	if !p.Saturated && best < len(rs)-1 {
		// more load did not raise throughput (it fell): the server was saturated at its best point
		top := rs[len(rs)-1]
		p.Saturated = true
		p.SaturatedBy = fmt.Sprintf("throughput falls with load: %.0f tok/s at load %g, %.0f tok/s at load %g",
			*b.OutputThroughput, b.LoadLevel, *top.OutputThroughput, top.LoadLevel)
	}
	if !p.Saturated && best > 0 && *b.OutputThroughput <= (1+PlateauTolerance)**rs[best-1].OutputThroughput {
		p.Saturated = true
		p.SaturatedBy = fmt.Sprintf("plateau: %.0f tok/s at load %g is within %.0f%% of %.0f tok/s at load %g",
			*b.OutputThroughput, b.LoadLevel, 100*PlateauTolerance, *rs[best-1].OutputThroughput, rs[best-1].LoadLevel)
	}
	return p
}

// Build forms every scaling series of the rows. A configuration (tp, dp, pp) belongs to the
// series that grows each of its dimensions with the other two fixed: the 1-GPU configuration
// is in the TP-only, DP-only and PP-only series; tp=2, dp=2 is in TP2×DPn (DP grows) and
// DP2×TPn (TP grows). Only series with two or more GPU counts are kept. Series are sorted by
// strategy (TP-only, DP-only, PP-only, mixes), then by the other factors.
func Build(rows []aggregate.Row) []Series {
	type seriesKey struct {
		group          groupKey
		grow           string
		fixedA, fixedB int // the other two dimensions, in tp, dp, pp order
	}
	bySeries := map[seriesKey]*Series{}
	for _, cp := range saturationPoints(rows) {
		k := cp.key
		dims := map[string]int{"tp": k.tp, "dp": k.dp, "pp": k.pp}
		for _, grow := range []string{"tp", "dp", "pp"} {
			a, b := others(grow, dims)
			sk := seriesKey{group: k.group, grow: grow, fixedA: a, fixedB: b}
			s := bySeries[sk]
			if s == nil {
				s = newSeries(k.group, grow, dims)
				bySeries[sk] = s
			}
			s.Points = append(s.Points, cp.Point)
		}
	}
	var out []Series
	for _, s := range bySeries {
		if len(s.GPUCounts()) < 2 {
			continue
		}
		slices.SortFunc(s.Points, func(a, b Point) int { return cmp.Or(cmp.Compare(a.GPUs, b.GPUs), cmp.Compare(a.Repeat, b.Repeat)) })
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b Series) int {
		return cmp.Or(cmp.Compare(strategyRank(a.Strategy), strategyRank(b.Strategy)), cmp.Compare(a.Strategy, b.Strategy),
			cmp.Compare(a.Prompts, b.Prompts), cmp.Compare(a.MaxTokens, b.MaxTokens), cmp.Compare(a.BatchSize, b.BatchSize),
			cmp.Compare(a.MBT, b.MBT), cmp.Compare(a.ExtraFactors, b.ExtraFactors), cmp.Compare(a.Mode, b.Mode),
			cmp.Compare(a.Engine, b.Engine), cmp.Compare(a.Model, b.Model))
	})
	nameSeries(out)
	return out
}

// others returns the two dimensions other than grow, in tp, dp, pp order.
func others(grow string, dims map[string]int) (int, int) {
	var v []int
	for _, d := range []string{"tp", "dp", "pp"} {
		if d != grow {
			v = append(v, dims[d])
		}
	}
	return v[0], v[1]
}

func newSeries(g groupKey, grow string, dims map[string]int) *Series {
	code, label := strategyName(grow, dims)
	return &Series{Strategy: code, StrategyLabel: label, Grow: grow, Engine: g.engine, Model: g.model,
		Prompts: g.prompts, MaxTokens: g.maxTokens, BatchSize: g.batch, MBT: g.mbt, Mode: g.mode, ExtraFactors: g.extra}
}

// strategyName names the series growing dimension grow with the others fixed as in dims.
func strategyName(grow string, dims map[string]int) (code, label string) {
	var fixed, fixedLabel []string
	for _, d := range []string{"tp", "dp", "pp"} {
		if d != grow && dims[d] > 1 {
			fixed = append(fixed, fmt.Sprintf("%s%d", d, dims[d]))
			fixedLabel = append(fixedLabel, fmt.Sprintf("%s%d", strings.ToUpper(d), dims[d]))
		}
	}
	if len(fixed) == 0 {
		return grow, strings.ToUpper(grow) + "-only"
	}
	return strings.Join(fixed, "x") + "x" + grow, strings.Join(fixedLabel, "×") + "×" + strings.ToUpper(grow) + "n"
}

func strategyRank(code string) int {
	switch code {
	case StrategyTP:
		return 0
	case StrategyDP:
		return 1
	case StrategyPP:
		return 2
	}
	return 3
}

// nameSeries gives every series a readable, unique name: its strategy, prompt set and output
// length, then what else tells it apart.
func nameSeries(ss []Series) {
	for i := range ss {
		s := &ss[i]
		parts := []string{s.StrategyLabel, s.Prompts, fmt.Sprintf("%d tok", s.MaxTokens)}
		if s.BatchSize > 0 {
			parts = append(parts, fmt.Sprintf("B%d", s.BatchSize))
		}
		if s.MBT > 0 {
			parts = append(parts, fmt.Sprintf("MBT%d", s.MBT))
		}
		if s.ExtraFactors != "" {
			parts = append(parts, s.ExtraFactors)
		}
		s.Name = strings.Join(parts, " · ")
	}
	count := map[string]int{}
	for _, s := range ss {
		count[s.Name]++
	}
	for i := range ss {
		if count[ss[i].Name] > 1 {
			ss[i].Name += " · " + ss[i].Mode + " · " + ss[i].Engine + " " + ss[i].Model
		}
	}
}
