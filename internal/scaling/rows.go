package scaling

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/llmscale/llmscale/internal/fit"
)

// AmdahlRow is one row of amdahl_fit.csv: one series, its Amdahl fit with the bootstrap
// interval, the scaling at its largest GPU count, Karp–Flatt's trend, USL when fitted, and the
// series' verdict (filled by the diagnosis). docs/results.md ("amdahl_fit.csv") documents
// every column.
type AmdahlRow struct {
	Series          string   `parquet:"series"`
	Strategy        string   `parquet:"strategy"`
	StrategyLabel   string   `parquet:"strategy_label"`
	Prompts         string   `parquet:"prompts"`
	MaxTokens       int64    `parquet:"max_tokens"`
	BatchSize       int64    `parquet:"batch_size"`
	MBT             int64    `parquet:"mbt"`
	ExtraFactors    string   `parquet:"extra_factors"`
	Mode            string   `parquet:"mode"`
	Engine          string   `parquet:"engine"`
	Model           string   `parquet:"model"`
	GPUCounts       string   `parquet:"gpu_counts"`
	Points          int64    `parquet:"points"`
	RepeatsMin      int64    `parquet:"repeats_min"`
	BaselineGPUs    int64    `parquet:"baseline_gpus"`
	X1              *float64 `parquet:"x1_tps,optional"`
	X1Lo            *float64 `parquet:"x1_lo_tps,optional"`
	X1Hi            *float64 `parquet:"x1_hi_tps,optional"`
	S               *float64 `parquet:"s,optional"`
	SLo             *float64 `parquet:"s_lo,optional"`
	SHi             *float64 `parquet:"s_hi,optional"`
	SAtBound        bool     `parquet:"s_at_bound"`
	Confidence      *float64 `parquet:"confidence,optional"`
	Bootstrap       string   `parquet:"bootstrap_method"`
	Resamples       int64    `parquet:"bootstrap_resamples"`
	BootstrapNote   string   `parquet:"bootstrap_note"`
	R2              *float64 `parquet:"r2,optional"`
	RMSE            *float64 `parquet:"rmse_tps,optional"`
	RelRMSE         *float64 `parquet:"rel_rmse,optional"`
	MaxSpeedup      *float64 `parquet:"amdahl_max_speedup,optional"`
	TopGPUs         int64    `parquet:"top_gpus"`
	TopThroughput   *float64 `parquet:"top_throughput_tps,optional"`
	SpeedupAtTop    *float64 `parquet:"speedup_at_top,optional"`
	EfficiencyAtTop *float64 `parquet:"efficiency_at_top,optional"`
	KFTrend         string   `parquet:"karp_flatt_trend"`
	KFSlope         *float64 `parquet:"karp_flatt_slope,optional"`
	KFReason        string   `parquet:"karp_flatt_reason"`
	USLFitted       bool     `parquet:"usl_fitted"`
	USLSigma        *float64 `parquet:"usl_sigma,optional"`
	USLKappa        *float64 `parquet:"usl_kappa,optional"`
	USLLambda       *float64 `parquet:"usl_lambda_tps,optional"`
	USLPeak         *float64 `parquet:"usl_peak_gpus,optional"`
	USLReason       string   `parquet:"usl_reason"`
	AllSaturated    bool     `parquet:"all_saturated"`
	Unsaturated     string   `parquet:"unsaturated_gpus"`
	Status          string   `parquet:"status"`
	Reason          string   `parquet:"reason"`
	Seed            string   `parquet:"seed"`
	Verdict         string   `parquet:"verdict"`
	VerdictLabel    string   `parquet:"verdict_label"`
	VerdictSentence string   `parquet:"verdict_sentence"`
}

// ScalingRow is one row of scaling_fits.parquet: one GPU count of one series, with the
// series' fitted parameters repeated on each of its rows (a long table, for plotting).
// docs/results.md ("scaling_fits.parquet") documents every column.
type ScalingRow struct {
	Series         string   `parquet:"series"`
	Strategy       string   `parquet:"strategy"`
	StrategyLabel  string   `parquet:"strategy_label"`
	Prompts        string   `parquet:"prompts"`
	MaxTokens      int64    `parquet:"max_tokens"`
	BatchSize      int64    `parquet:"batch_size"`
	MBT            int64    `parquet:"mbt"`
	ExtraFactors   string   `parquet:"extra_factors"`
	Mode           string   `parquet:"mode"`
	GPUs           int64    `parquet:"gpus"`
	Repeats        int64    `parquet:"repeats"`
	ThroughputMean *float64 `parquet:"throughput_mean_tps,optional"`
	ThroughputSD   *float64 `parquet:"throughput_sd_tps,optional"`
	Ideal          *float64 `parquet:"ideal_speedup,optional"`
	Speedup        *float64 `parquet:"speedup,optional"`
	Efficiency     *float64 `parquet:"efficiency,optional"`
	KarpFlatt      *float64 `parquet:"karp_flatt_e,optional"`
	KarpFlattSE    *float64 `parquet:"karp_flatt_se,optional"`
	Gustafson      *float64 `parquet:"gustafson_speedup,optional"`
	GustafsonLo    *float64 `parquet:"gustafson_lo,optional"`
	GustafsonHi    *float64 `parquet:"gustafson_hi,optional"`
	AmdahlTPS      *float64 `parquet:"amdahl_fitted_tps,optional"`
	USLTPS         *float64 `parquet:"usl_fitted_tps,optional"`
	Saturated      bool     `parquet:"saturated"`
	SaturatedBy    string   `parquet:"saturated_by"`
	// PointNote marks a point that is not plain scaling (set from the series diagnosis):
	// "capacity effect: …" or "suspect: …".
	PointNote     string   `parquet:"point_note"`
	ExpIDs        string   `parquet:"exp_ids"`
	LoadLevels    string   `parquet:"load_levels"`
	BaselineGPUs  int64    `parquet:"baseline_gpus"`
	Normalisation string   `parquet:"normalisation"`
	AmdahlX1      *float64 `parquet:"amdahl_x1_tps,optional"`
	AmdahlS       *float64 `parquet:"amdahl_s,optional"`
	AmdahlSLo     *float64 `parquet:"amdahl_s_lo,optional"`
	AmdahlSHi     *float64 `parquet:"amdahl_s_hi,optional"`
	AmdahlR2      *float64 `parquet:"amdahl_r2,optional"`
	USLFitted     bool     `parquet:"usl_fitted"`
	USLSigma      *float64 `parquet:"usl_sigma,optional"`
	USLKappa      *float64 `parquet:"usl_kappa,optional"`
	USLLambda     *float64 `parquet:"usl_lambda_tps,optional"`
	USLPeak       *float64 `parquet:"usl_peak_gpus,optional"`
	USLReason     string   `parquet:"usl_reason"`
	KFTrend       string   `parquet:"karp_flatt_trend"`
	KFSlope       *float64 `parquet:"karp_flatt_slope,optional"`
	KFReason      string   `parquet:"karp_flatt_reason"`
	Status        string   `parquet:"status"`
	Reason        string   `parquet:"reason"`
	Seed          string   `parquet:"seed"`
}

func opt(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ";")
}

// seedText is the seed of a series' bootstrap: "seed/stream" for rand.NewPCG(seed, stream).
func (f Fit) seedText() string { return fmt.Sprintf("%d/%d", f.Seed, f.Hash) }

// AmdahlRow lays out f as a row of amdahl_fit.csv (without the verdict).
func (f Fit) AmdahlRow() AmdahlRow {
	s := f.Series
	r := AmdahlRow{Series: s.Name, Strategy: s.Strategy, StrategyLabel: s.StrategyLabel, Prompts: s.Prompts,
		MaxTokens: int64(s.MaxTokens), BatchSize: int64(s.BatchSize), MBT: int64(s.MBT), ExtraFactors: s.ExtraFactors,
		Mode: s.Mode, Engine: s.Engine, Model: s.Model, GPUCounts: joinInts(s.GPUCounts()), Points: int64(len(s.Points)),
		Status: f.Status, Reason: f.Reason, Seed: f.seedText()}
	r.AllSaturated, r.Unsaturated = s.Saturation()
	if f.Status != StatusOK {
		return r
	}
	res := f.Result
	r.RepeatsMin, r.BaselineGPUs = int64(minRepeats(res.Scaling)), int64(res.Baseline)
	a := res.Amdahl
	r.X1, r.X1Lo, r.X1Hi = opt(a.X1), opt(a.X1Interval.Lo), opt(a.X1Interval.Hi)
	r.S, r.SLo, r.SHi, r.SAtBound = opt(a.S), opt(a.SInterval.Lo), opt(a.SInterval.Hi), a.SAtBound
	r.Confidence, r.Bootstrap, r.Resamples, r.BootstrapNote = opt(a.Bootstrap.Confidence), string(a.Bootstrap.Method),
		int64(a.Bootstrap.Resamples), a.Bootstrap.Note
	r.R2, r.RMSE, r.RelRMSE = opt(a.Goodness.R2), opt(a.Goodness.RMSE), opt(a.Goodness.RelRMSE)
	if a.S > 0 {
		r.MaxSpeedup = opt(1 / a.S)
	}
	top := res.Scaling[len(res.Scaling)-1]
	r.TopGPUs, r.TopThroughput, r.SpeedupAtTop, r.EfficiencyAtTop = int64(top.GPUs), opt(top.Mean), opt(top.Speedup), opt(top.Efficiency)
	kf := res.KarpFlatt
	r.KFTrend, r.KFSlope, r.KFReason = string(kf.Trend), opt(kf.Slope), kf.Reason
	u := res.USL
	r.USLFitted, r.USLReason = u.Fitted, u.Reason
	if u.Fitted {
		r.USLSigma, r.USLKappa, r.USLLambda, r.USLPeak = opt(u.Sigma), opt(u.Kappa), opt(u.Lambda), opt(u.Peak)
	}
	return r
}

func minRepeats(sc []fit.Scaling) int {
	m := 0
	for i, p := range sc {
		if i == 0 || p.Repeats < m {
			m = p.Repeats
		}
	}
	return m
}

// Saturation reports whether every point was saturated, and the GPU counts that were not.
func (s Series) Saturation() (all bool, unsaturated string) {
	var bad []int
	for _, p := range s.Points {
		if !p.Saturated && !slices.Contains(bad, p.GPUs) {
			bad = append(bad, p.GPUs)
		}
	}
	return len(bad) == 0, joinInts(bad)
}

// ScalingRows lays out f as rows of scaling_fits.parquet, one per GPU count.
func (f Fit) ScalingRows() []ScalingRow {
	s := f.Series
	base := ScalingRow{Series: s.Name, Strategy: s.Strategy, StrategyLabel: s.StrategyLabel, Prompts: s.Prompts,
		MaxTokens: int64(s.MaxTokens), BatchSize: int64(s.BatchSize), MBT: int64(s.MBT), ExtraFactors: s.ExtraFactors,
		Mode: s.Mode, Status: f.Status, Reason: f.Reason, Seed: f.seedText()}
	if f.Status == StatusOK {
		base.fillSeriesFit(f.Result)
	}
	var out []ScalingRow
	for _, n := range s.GPUCounts() {
		r := base
		r.GPUs = int64(n)
		r.fillPoints(s.Points, n)
		if f.Status == StatusOK {
			r.fillScaling(f.Result, n)
		}
		out = append(out, r)
	}
	return out
}

func (r *ScalingRow) fillSeriesFit(res fit.Result) {
	a, u, kf := res.Amdahl, res.USL, res.KarpFlatt
	r.BaselineGPUs, r.Normalisation = int64(res.Baseline), res.Normalisation
	r.AmdahlX1, r.AmdahlS, r.AmdahlSLo, r.AmdahlSHi, r.AmdahlR2 = opt(a.X1), opt(a.S), opt(a.SInterval.Lo), opt(a.SInterval.Hi), opt(a.Goodness.R2)
	r.USLFitted, r.USLReason = u.Fitted, u.Reason
	if u.Fitted {
		r.USLSigma, r.USLKappa, r.USLLambda, r.USLPeak = opt(u.Sigma), opt(u.Kappa), opt(u.Lambda), opt(u.Peak)
	}
	r.KFTrend, r.KFSlope, r.KFReason = string(kf.Trend), opt(kf.Slope), kf.Reason
}

func (r *ScalingRow) fillPoints(pts []Point, n int) {
	var ids, levels, by []string
	r.Saturated = true
	for _, p := range pts {
		if p.GPUs != n {
			continue
		}
		ids = append(ids, p.ExpID)
		levels = append(levels, strconv.FormatFloat(p.LoadLevel, 'g', -1, 64))
		r.Saturated = r.Saturated && p.Saturated
		if !slices.Contains(by, p.SaturatedBy) {
			by = append(by, p.SaturatedBy)
		}
	}
	r.ExpIDs, r.LoadLevels, r.SaturatedBy = strings.Join(ids, ";"), strings.Join(levels, ";"), strings.Join(by, " | ")
}

func (r *ScalingRow) fillScaling(res fit.Result, n int) {
	for _, sc := range res.Scaling {
		if sc.GPUs == n {
			r.Repeats, r.ThroughputMean, r.Ideal, r.Speedup, r.Efficiency = int64(sc.Repeats), opt(sc.Mean), opt(sc.Ideal), opt(sc.Speedup), opt(sc.Efficiency)
			if sc.Repeats > 1 {
				r.ThroughputSD = opt(sc.SD)
			}
		}
	}
	for _, k := range res.KarpFlatt.Points {
		if k.GPUs == n {
			r.KarpFlatt, r.KarpFlattSE = opt(k.E), opt(k.SE)
		}
	}
	for _, g := range res.Gustafson {
		if g.GPUs == n {
			r.Gustafson, r.GustafsonLo, r.GustafsonHi = opt(g.ScaledSpeedup), opt(g.Lo), opt(g.Hi)
		}
	}
	r.AmdahlTPS = opt(res.Amdahl.Throughput(float64(n)))
	if res.USL.Fitted {
		r.USLTPS = opt(res.USL.Throughput(float64(n)))
	}
}
