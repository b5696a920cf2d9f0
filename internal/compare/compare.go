package compare

import (
	"fmt"
	"math"
	"slices"

	"github.com/llmscale/llmscale/internal/aggregate"
)

// DefaultMetrics are compared when the caller names none: what users compare across tools.
func DefaultMetrics() []string {
	return []string{"request_throughput_rps", "output_throughput_tps", "goodput_rps",
		"ttft_ms_p50", "ttft_ms_p99", "tpot_ms_p50", "tpot_ms_p99", "itl_ms_p99", "e2e_ms_p50", "e2e_ms_p99"}
}

// Defaults of Options.
const (
	DefaultResamples  = 200
	DefaultConfidence = 0.95
)

// Options shape a comparison.
type Options struct {
	Metrics    []string // summary_metrics columns (or p99_ttft_ms spellings); nil: DefaultMetrics
	Ignore     []string // key columns not to match on (they may differ between the sides)
	Resamples  int      // bootstrap resamples per experiment; 0: DefaultResamples; < 0: no bootstrap
	Seed       uint64   // bootstrap seed (and the fits' seed)
	Confidence float64  // of the noise interval; 0: DefaultConfidence
}

// Direction says which way a metric improves.
type Direction int

// Directions.
const (
	Neutral      Direction = 0
	HigherBetter Direction = 1
	LowerBetter  Direction = -1
)

// Change is one metric of one point on both sides.
type Change struct {
	Metric     string
	Direction  Direction
	A, B       float64 // means over repeats
	NA, NB     int     // repeats with a value
	Delta      float64 // B − A
	Rel        float64 // (B − A) / |A|; NaN when A is 0
	Noise      float64 // half-width of the interval of Delta; NaN when unknown
	Method     string  // NoiseRepeats, NoiseBootstrap or NoiseUnknown
	Beyond     bool    // |Delta| > Noise (false when the noise is unknown)
	Comparable bool    // both sides have a value
}

// Verdict words a change: better, worse, within noise, changed (noise unknown) or n/a.
func (c Change) Verdict() string {
	switch {
	case !c.Comparable:
		return "n/a"
	case c.Delta == 0:
		return "same"
	case c.Method == NoiseUnknown:
		return "changed (noise unknown)"
	case !c.Beyond:
		return "within noise"
	case c.Direction == Neutral:
		return "changed"
	case (c.Delta > 0) == (c.Direction == HigherBetter):
		return "better"
	}
	return "worse"
}

// PointResult is one matched point: its changes in metric order.
type PointResult struct {
	Point   Point
	Label   string
	Changes []Change
}

// Result is a whole comparison.
type Result struct {
	A, B      Campaign
	Metrics   []string
	Keys      []string // the key columns matched on
	Vary      []string // the key columns that differ between points (labels show these)
	Points    []PointResult
	OnlyA     []Point // done experiments with no match on B
	OnlyB     []Point
	Fits      []FitChange
	Verdicts  []VerdictChange
	Options   Options
	Bootstrap bool // some noise came from the bootstrap
}

// Compare matches the done experiments of a and b and compares every metric of every point.
func Compare(a, b Campaign, o Options) (Result, error) {
	o = o.withDefaults()
	metrics, err := resolveMetrics(o.Metrics)
	if err != nil {
		return Result{}, err
	}
	for _, c := range o.Ignore {
		if !slices.Contains(KeyColumns(), c) {
			return Result{}, fmt.Errorf("--ignore %s: not a key column (%v)", c, KeyColumns())
		}
	}
	keys := keyColumns(append(selected(a.Side, b.Side), o.Ignore...))
	res := Result{A: a, B: b, Metrics: metrics, Keys: keys, Options: o}
	points := match(a.Rows, b.Rows, keys)
	res.Vary = varying(points, keys)
	boot := newBootstrapper(o.Resamples, o.Seed, metrics)
	for _, p := range points {
		switch {
		case len(p.B) == 0:
			res.OnlyA = append(res.OnlyA, p)
		case len(p.A) == 0:
			res.OnlyB = append(res.OnlyB, p)
		default:
			pr := PointResult{Point: p, Label: p.Label(res.Vary)}
			for _, m := range metrics {
				c := changeOf(p, m, boot, a.Side.Root, b.Side.Root, o.Confidence)
				res.Bootstrap = res.Bootstrap || c.Method == NoiseBootstrap
				pr.Changes = append(pr.Changes, c)
			}
			res.Points = append(res.Points, pr)
		}
	}
	res.Fits = compareFits(a, b)
	res.Verdicts = compareVerdicts(res.Points)
	return res, nil
}

func (o Options) withDefaults() Options {
	if len(o.Metrics) == 0 {
		o.Metrics = DefaultMetrics()
	}
	if o.Resamples == 0 {
		o.Resamples = DefaultResamples
	}
	if o.Confidence == 0 {
		o.Confidence = DefaultConfidence
	}
	return o
}

// resolveMetrics turns the names given into summary_metrics columns, once each.
func resolveMetrics(names []string) ([]string, error) {
	cols := columnsOf()
	var out []string
	for _, n := range names {
		m, err := resolveMetric(cols, n)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out, nil
}

// values lists metric over rows, skipping nulls.
func values(rows []*aggregate.Row, metric string) []float64 {
	col := columnsOf()[metric]
	var out []float64
	for _, r := range rows {
		if v, ok := col.number(r); ok && !math.IsNaN(v) {
			out = append(out, v)
		}
	}
	return out
}

func changeOf(p Point, metric string, boot *bootstrapper, rootA, rootB string, conf float64) Change {
	c := Change{Metric: metric, Direction: DirectionOf(metric), Noise: math.NaN(), Rel: math.NaN(), Method: NoiseUnknown}
	va, vb := values(p.A, metric), values(p.B, metric)
	c.NA, c.NB = len(va), len(vb)
	if c.NA == 0 || c.NB == 0 {
		return c
	}
	c.Comparable = true
	c.A, c.B = mean(va), mean(vb)
	c.Delta = c.B - c.A
	if c.A != 0 {
		c.Rel = c.Delta / math.Abs(c.A)
	}
	switch {
	case c.NA >= 2 && c.NB >= 2:
		c.Noise, c.Method = welch(va, vb, conf), NoiseRepeats
	default:
		seA, okA := meanSE(boot, rootA, p.A, metric)
		seB, okB := meanSE(boot, rootB, p.B, metric)
		if okA && okB {
			c.Noise, c.Method = fitNormal(conf)*math.Hypot(seA, seB), NoiseBootstrap
		}
	}
	c.Beyond = c.Method != NoiseUnknown && math.Abs(c.Delta) > c.Noise
	return c
}

// meanSE is the bootstrap standard error of the mean over a side's repeats.
func meanSE(boot *bootstrapper, root string, rows []*aggregate.Row, metric string) (float64, bool) {
	sum := 0.0
	for _, r := range rows {
		se, ok := boot.se(root, r, metric)
		if !ok {
			return 0, false
		}
		sum += se * se
	}
	return math.Sqrt(sum) / float64(len(rows)), true
}

// fitNormal is the two-sided normal quantile of conf (1.96 for 95%).
func fitNormal(conf float64) float64 { return math.Sqrt2 * math.Erfinv(conf) }
