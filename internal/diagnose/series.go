package diagnose

import (
	"fmt"
	"math"
	"strings"

	"github.com/llmscale/llmscale/internal/aggregate"
	"github.com/llmscale/llmscale/internal/fit"
	"github.com/llmscale/llmscale/internal/scaling"
)

// SeriesDiagnosis is the verdict on why one scaling series is sub-linear.
type SeriesDiagnosis struct {
	Series   string  `json:"series"`
	Strategy string  `json:"strategy"`
	Status   string  `json:"status"` // the fit's: ok | not_fitted
	Verdict  Verdict `json:"verdict"`
	// PointNotes marks GPU counts whose point is not plain scaling: "capacity effect: …" or
	// "suspect: …". The fit files carry them (scaling_fits.parquet point_note).
	PointNotes map[int]string `json:"point_notes,omitempty"`
}

// seriesCtx is what the series rules read: the series' fit, its points' experiments and the
// other series of the campaign.
type seriesCtx struct {
	f    scaling.Fit
	all  []scaling.Fit
	exps map[string]ExperimentDiagnosis
	rows map[string]*aggregate.Row
	// rep is the saturation experiment of each GPU count (its first repeat), top the largest
	// GPU count's, base the smallest's.
	rep       map[int]string
	top, base int
	eff       float64 // efficiency at top
	notes     map[int]string
}

// SeriesStage is the second stage, after the scaling fits: it runs the series rules on every
// fit and returns the whole Diagnosis. rows and exps are the first stage's rows and
// experiment diagnoses, in the same order (exps[i] is rows[i]'s); fits is every fitted
// series of the campaign.
func SeriesStage(rows []aggregate.Row, exps []ExperimentDiagnosis, fits []scaling.Fit) Diagnosis {
	d := Diagnosis{Experiments: exps, Thresholds: Thresholds()}
	byExp := make(map[string]ExperimentDiagnosis, len(rows))
	byID := make(map[string]*aggregate.Row, len(rows))
	for i := range rows {
		byExp[rows[i].ExpID], byID[rows[i].ExpID] = exps[i], &rows[i]
	}
	for _, f := range fits {
		d.Series = append(d.Series, Series(f, fits, byExp, byID))
	}
	return d
}

// Series diagnoses one fitted series. exps and rows are every experiment's diagnosis and
// summary row by exp_id; all is every fitted series of the campaign (for the TP/DP comparison).
func Series(f scaling.Fit, all []scaling.Fit, exps map[string]ExperimentDiagnosis, rows map[string]*aggregate.Row) SeriesDiagnosis {
	d := SeriesDiagnosis{Series: f.Series.Name, Strategy: f.Series.Strategy, Status: f.Status}
	if f.Status != scaling.StatusOK {
		d.Verdict = Verdict{Code: CodeUnknown, Label: Label(CodeUnknown),
			Sentence: "The series could not be fitted: " + f.Reason + ".", Missing: []string{"a fit of the series"}}
		return d
	}
	c := newSeriesCtx(f, all, exps, rows)
	d.Verdict = c.verdict()
	d.Verdict.Evidence = append(d.Verdict.Evidence, c.fitEvidence()...)
	d.PointNotes = c.notes
	return d
}

func newSeriesCtx(f scaling.Fit, all []scaling.Fit, exps map[string]ExperimentDiagnosis, rows map[string]*aggregate.Row) *seriesCtx {
	c := &seriesCtx{f: f, all: all, exps: exps, rows: rows, rep: map[int]string{}, notes: map[int]string{}}
	for _, p := range f.Series.Points {
		if _, ok := c.rep[p.GPUs]; !ok {
			c.rep[p.GPUs] = p.ExpID
		}
	}
	sc := f.Result.Scaling
	c.base, c.top, c.eff = sc[0].GPUs, sc[len(sc)-1].GPUs, sc[len(sc)-1].Efficiency
	return c
}

// verdict applies the series rules in order: the first that holds is the verdict; the later
// rules that hold too are named under Also, and every other rule that held or missed by less
// than CloseMargin, with its margin, under Close.
func (c *seriesCtx) verdict() Verdict {
	if c.f.Series.Strategy == scaling.StrategyTable {
		return c.tableVerdict()
	}
	rules := []func() (Verdict, bool){c.loadGenerator, c.superLinear, c.erratic, c.unsaturated, c.nearLinear,
		c.tpComm, c.apiServer, c.underfilled, c.topLimit, c.contendedHost}
	var earlier []Verdict // the rules before the verdict's: they missed
	for i, rule := range rules {
		v, ok := rule()
		if ok {
			c.alsoHeld(&v, earlier, rules[i+1:])
			return v
		}
		earlier = append(earlier, v)
	}
	return c.unknown()
}

// alsoHeld names beside v the rules that missed before it by less than CloseMargin, and runs
// the rules after it: those that hold too go under Also; the limits among all of these (not
// near-linear scaling, which is no limit, nor not-saturated and the load generator, which are
// not the server's) go with their margins under Close (the report appends Also to the
// sentence). The later rules' point notes are dropped: the verdict's rule alone marks points.
func (c *seriesCtx) alsoHeld(v *Verdict, earlier []Verdict, rest []func() (Verdict, bool)) {
	for _, o := range earlier {
		c.nameClose(v, o, false)
	}
	kept := c.notes
	c.notes = map[int]string{}
	defer func() { c.notes = kept }()
	for _, rule := range rest {
		o, ok := rule()
		if ok && o.Code != v.Code && o.Code != CodeNearLinear && !contains(v.Also, o.Code) {
			v.Also = append(v.Also, o.Code)
		}
		c.nameClose(v, o, ok)
	}
}

// nameClose adds o to v's Close when it is a server limit other than v's that held, or that
// missed by less than CloseMargin.
func (c *seriesCtx) nameClose(v *Verdict, o Verdict, held bool) {
	switch o.Code {
	case "", v.Code, CodeNearLinear, CodeNotSaturated, CodeLoadGenerator:
		return
	}
	if o.Margin == nil || (!held && *o.Margin <= -CloseMargin) {
		return
	}
	entry := fmt.Sprintf("%s (%s)", o.Code, signedPct(*o.Margin))
	if !contains(v.Close, entry) {
		v.Close = append(v.Close, entry)
	}
}

// missed is what a rule that did not hold reports: its code and how far it missed (negative
// margin), so that a near miss can be named beside the verdict; no margin when NaN.
func missed(code string, m float64) Verdict {
	v := Verdict{Code: code}
	if !math.IsNaN(m) && !math.IsInf(m, 0) {
		v.Margin = &m
	}
	return v
}

func (c *seriesCtx) expVerdict(n int) (Verdict, bool) {
	d, ok := c.exps[c.rep[n]]
	return d.Verdict, ok
}

func (c *seriesCtx) topDesc() string {
	return fmt.Sprintf("efficiency %s at %d GPUs", pct(c.eff), c.top)
}

// loadGenerator: some point's experiment was limited by the client.
func (c *seriesCtx) loadGenerator() (Verdict, bool) {
	for _, n := range c.f.Series.GPUCounts() {
		if v, ok := c.expVerdict(n); ok && v.Code == CodeLoadGenerator {
			return Verdict{Code: CodeLoadGenerator, Label: Label(CodeLoadGenerator), Evidence: v.Evidence, Margin: v.Margin,
				Sentence: fmt.Sprintf("At %s the load generator was the limit (%s), so the series measures the client, "+
					"not the server.", gpuCount(n), c.rep[n])}, true
		}
	}
	return Verdict{}, false
}

// unsaturated: some GPU count never saturated the server.
func (c *seriesCtx) unsaturated() (Verdict, bool) {
	all, bad := c.f.Series.Saturation()
	if all {
		return Verdict{}, false
	}
	ev := []Evidence{fact("GPU counts whose load levels never saturated the server", "unsaturated_gpus", bad, "none", false)}
	where := "the speedup there is a lower bound of the server's"
	sc := c.f.Result.Scaling
	if speedup := sc[len(sc)-1].Speedup; strings.HasSuffix(";"+bad, fmt.Sprintf(";%d", c.top)) && speedup < FlatSpeedup {
		where = fmt.Sprintf("its flat speedup (%s×) may be the test's, not the server's", num(speedup))
	}
	s := fmt.Sprintf("At %s GPUs no load level saturated the server (the best throughput is at the highest load measured "+
		"and below every limit): %s; add higher load levels.", strings.ReplaceAll(bad, ";", ", "), where)
	return Verdict{Code: CodeNotSaturated, Label: Label(CodeNotSaturated), Sentence: s, Evidence: ev}, true
}

// superLinear: a step between consecutive GPU counts gained more than the GPUs it added
// (step efficiency above SuperLinearEfficiency). When the smaller configuration was KV- or
// memory-starved and the larger is not, that is a capacity effect: the larger configuration
// holds more sequences, not just more compute. Otherwise the point is a suspect measurement.
func (c *seriesCtx) superLinear() (Verdict, bool) {
	sc := c.f.Result.Scaling
	for i := 1; i < len(sc); i++ {
		a, b := sc[i-1], sc[i]
		step := (b.Mean / a.Mean) / (float64(b.GPUs) / float64(a.GPUs))
		stepEv := atLeast(fmt.Sprintf("throughput gain ÷ GPU gain, %d → %d GPUs", a.GPUs, b.GPUs), "efficiency", step, SuperLinearEfficiency)
		if !stepEv.Holds {
			continue
		}
		starved, ev := c.starved(a.GPUs)
		fedNow, _ := c.starved(b.GPUs)
		ev = append([]Evidence{stepEv}, ev...)
		if starved != "" && fedNow == "" {
			c.notes[b.GPUs] = fmt.Sprintf("capacity effect: %d GPUs were %s", a.GPUs, starved)
			s := fmt.Sprintf("Super-linear step from %s to %d GPUs (%s× the throughput from %s× the GPUs): the smaller "+
				"configuration was %s, the larger is not, so the gain is capacity (more sequences held at once), not "+
				"parallel speed-up; the Amdahl fit marks %d GPUs as a capacity effect (%s).", gpuCount(a.GPUs), b.GPUs,
				num(b.Mean/a.Mean), num(float64(b.GPUs)/float64(a.GPUs)), starved, b.GPUs, c.topDesc())
			return Verdict{Code: CodeCapacity, Label: Label(CodeCapacity), Sentence: s, Evidence: ev, Margin: stepEv.Margin}, true
		}
		c.notes[b.GPUs] = "suspect: super-linear with no capacity effect to explain it"
		s := fmt.Sprintf("Super-linear step from %s to %d GPUs (%s× the throughput from %s× the GPUs) that no capacity "+
			"effect explains (no KV cache full, preemption or batch held below its cap at %s): treat it as a suspect "+
			"measurement, not as scaling — a contended host, a warm cache or a short window; rerun both points.%s",
			gpuCount(a.GPUs), b.GPUs, num(b.Mean/a.Mean), num(float64(b.GPUs)/float64(a.GPUs)), gpuCount(a.GPUs), c.hostNote())
		return Verdict{Code: CodeSuspect, Label: Label(CodeSuspect), Sentence: s, Evidence: ev, Margin: stepEv.Margin}, true
	}
	return Verdict{}, false
}

// starved says how the configuration of n GPUs was short of memory for sequences ("" when it
// was not): KV cache full or preemptions (its verdict or its row), or its batch held below the
// cap while requests queued.
func (c *seriesCtx) starved(n int) (string, []Evidence) {
	r := c.rows[c.rep[n]]
	if r == nil {
		return "", nil
	}
	f := factsOf(r)
	kv := atLeast(fmt.Sprintf("fullest engine's KV-cache usage at %s", gpuCount(n)), "kv_cache_usage_max_engine", f.kvMax, KVFullFraction)
	pre := atLeast(fmt.Sprintf("preemptions per request at %s", gpuCount(n)), "preemptions_per_request", f.preemptRate, PreemptionRate)
	held := below(fmt.Sprintf("requests running ÷ batch cap at %s", gpuCount(n)), "running_cap_fraction", f.capFrac, AtCapFraction)
	q := f.queueEvidence()
	ev := []Evidence{kv, pre, held}
	switch {
	case pre.Holds:
		return fmt.Sprintf("preempting (%s preemptions per request)", num(f.preemptRate)), ev
	case kv.Holds:
		return fmt.Sprintf("KV-starved (KV cache %s full)", pct(f.kvMax)), ev
	case held.Holds && q.Holds:
		return fmt.Sprintf("memory-starved (batch held at %s of its cap with %s requests queued)", pct(f.capFrac), num(f.queued)), ev
	}
	return "", ev
}

// hostNote names the points measured on a contended host.
func (c *seriesCtx) hostNote() string {
	var at []string
	for _, n := range c.f.Series.GPUCounts() {
		if d, ok := c.exps[c.rep[n]]; ok && d.Suspect != "" {
			at = append(at, gpuCount(n))
		}
	}
	if len(at) == 0 {
		return ""
	}
	return " The host was contended at " + strings.Join(at, ", ") + "."
}

// contendedHost: a sub-linear series that no server-side rule explains, whose larger
// configurations were measured on a contended host (the replicas, the client and other
// processes competing for the same CPUs), says more about the host than about how the engine
// scales: the shortfall is suspect. It comes last so that evidence from the server still wins.
func (c *seriesCtx) contendedHost() (Verdict, bool) {
	var at []string
	var ev []Evidence
	for _, n := range c.f.Series.GPUCounts() {
		d, ok := c.exps[c.rep[n]]
		if !ok || d.Suspect == "" || n == c.base {
			continue
		}
		at = append(at, gpuCount(n))
		if r := c.rows[c.rep[n]]; r != nil && r.HostCPUUtil != nil {
			ev = append(ev, atLeast(fmt.Sprintf("host CPU busy at %s", gpuCount(n)), "host_cpu_util", *r.HostCPUUtil, HostBusyFraction))
		}
	}
	if len(at) == 0 {
		return Verdict{}, false
	}
	s := fmt.Sprintf("The series is sub-linear (%s), but the host was contended at %s: the servers and the load "+
		"generator competed for the same CPUs, so the shortfall measures the host, not the engine's scaling; rerun "+
		"with the client on other cores or another machine.", c.topDesc(), strings.Join(at, ", "))
	v := Verdict{Code: CodeSuspect, Label: Label(CodeSuspect), Sentence: s, Evidence: ev}
	if len(ev) > 0 {
		v.Margin = ev[0].Margin
	}
	return v, true
}

// erratic: repeats of one GPU count disagree by more than RepeatSpread of their mean.
func (c *seriesCtx) erratic() (Verdict, bool) {
	byN := map[int][]float64{}
	for _, p := range c.f.Series.Points {
		byN[p.GPUs] = append(byN[p.GPUs], p.Throughput)
	}
	for _, n := range c.f.Series.GPUCounts() {
		v := byN[n]
		if len(v) < 2 {
			continue
		}
		lo, hi, sum := math.Inf(1), math.Inf(-1), 0.0
		for _, x := range v {
			lo, hi, sum = math.Min(lo, x), math.Max(hi, x), sum+x
		}
		spread := (hi - lo) / (sum / float64(len(v)))
		ev := atLeast(fmt.Sprintf("spread of the %d repeats at %s ÷ their mean", len(v), gpuCount(n)), "throughput_sd_tps", spread, RepeatSpread)
		if !ev.Holds {
			continue
		}
		c.notes[n] = fmt.Sprintf("suspect: repeats disagree by %s", pct(spread))
		s := fmt.Sprintf("The repeats at %s disagree (%s to %s tok/s, a spread of %s of their mean): the point is erratic, "+
			"so the series' shape is not a measurement of scaling; find what changed between repeats (host load, "+
			"caches, thermal limits) and rerun.%s", gpuCount(n), num(lo), num(hi), pct(spread), c.hostNote())
		return Verdict{Code: CodeSuspect, Label: Label(CodeSuspect), Sentence: s, Evidence: []Evidence{ev}, Margin: ev.Margin}, true
	}
	return Verdict{}, false
}

// nearLinear: efficiency at the largest GPU count is high.
func (c *seriesCtx) nearLinear() (Verdict, bool) {
	if c.eff < NearLinearEfficiency {
		return Verdict{}, false
	}
	code, s := CodeNearLinear, fmt.Sprintf("The series scales near-linearly: %s.", c.topDesc())
	ev := []Evidence{atLeast(fmt.Sprintf("efficiency at %d GPUs", c.top), "efficiency_at_top", c.eff, NearLinearEfficiency)}
	if v, ok := c.expVerdict(c.top); ok && v.Code == CodeGPUBound {
		code, s = CodeGPUBound, s+" Its GPUs are busy: more GPUs keep adding throughput."
		ev = append(ev, v.Evidence...)
	} else if v, ok := c.expVerdict(c.top); ok {
		s += fmt.Sprintf(" At %d GPUs: %s.", c.top, strings.ToLower(v.Label))
	}
	return Verdict{Code: code, Label: Label(code), Sentence: s, Evidence: ev, Margin: ev[0].Margin}, true
}

// counterpart is the DP series of the same factors (DP-only first), for a series growing TP.
func (c *seriesCtx) counterpart() *scaling.Fit {
	s := c.f.Series
	var best *scaling.Fit
	for i := range c.all {
		o := &c.all[i]
		os := o.Series
		if o.Status != scaling.StatusOK || os.Grow != "dp" || os.Prompts != s.Prompts || os.MaxTokens != s.MaxTokens ||
			os.BatchSize != s.BatchSize || os.MBT != s.MBT || os.ExtraFactors != s.ExtraFactors || os.Mode != s.Mode ||
			os.Engine != s.Engine || os.Model != s.Model {
			continue
		}
		if best == nil || os.Strategy == scaling.StrategyDP {
			best = o
		}
	}
	return best
}

// tpComm: a series growing TP scales worse than DP at the same GPU count, or (with no DP to
// compare) its Karp–Flatt metric rises.
func (c *seriesCtx) tpComm() (Verdict, bool) {
	if c.f.Series.Grow != "tp" {
		return Verdict{}, false
	}
	ic := c.interconnect()
	icEv := fact("interconnect", "interconnect", ic, "pcie", strings.Contains(ic, "pcie"))
	kf := c.f.Result.KarpFlatt
	kfEv := fact("Karp–Flatt trend", "karp_flatt_trend", string(kf.Trend), "rising", kf.Trend == fit.TrendRising)
	if dp := c.counterpart(); dp != nil {
		ev, worst, at := c.compareTo(dp)
		m := (1 - TPWorseThanDPMargin - worst) / (1 - TPWorseThanDPMargin)
		if worst <= 1-TPWorseThanDPMargin {
			s := fmt.Sprintf("TP scales worse than DP: at %d GPUs TP reaches %s of DP's throughput (%s). Every step of a "+
				"TP replica pays for two all-reduces per layer over %s, and its batch cap does not grow with its GPUs, "+
				"while each DP replica brings its own; prefer DP (or TP only as far as the model needs).",
				at, pct(worst), dp.Series.Name, orWord(ic, "the interconnect"))
			return Verdict{Code: CodeTPComm, Label: Label(CodeTPComm), Sentence: s, Evidence: append(ev, icEv, kfEv), Margin: &m}, true
		}
		return missed(CodeTPComm, m), false
	}
	if kf.Trend == fit.TrendRising {
		s := fmt.Sprintf("Karp–Flatt's serial fraction rises with the TP degree (%s): overhead that grows with N, as "+
			"all-reduces over %s do; no DP series of the same factors was measured to compare with.", kf.Reason, orWord(ic, "the interconnect"))
		slope := atLeast("Karp–Flatt slope (change in e per doubling of GPUs)", "karp_flatt_slope", kf.Slope, fit.KarpFlattSlopeThreshold)
		return Verdict{Code: CodeTPComm, Label: Label(CodeTPComm), Sentence: s, Evidence: []Evidence{kfEv, slope, icEv},
			Missing: []string{"a DP series of the same factors"}, Margin: slope.Margin}, true
	}
	return Verdict{}, false
}

// compareTo compares this series' mean throughput with dp's at their common GPU counts above
// one: the evidence, the worst ratio and where it is.
func (c *seriesCtx) compareTo(dp *scaling.Fit) ([]Evidence, float64, int) {
	worst, at := math.Inf(1), 0
	var ev []Evidence
	for _, a := range c.f.Result.Scaling {
		for _, b := range dp.Result.Scaling {
			if a.GPUs != b.GPUs || a.GPUs < 2 {
				continue
			}
			r := a.Mean / b.Mean
			ev = append(ev, atMost(fmt.Sprintf("TP ÷ DP throughput at %d GPUs", a.GPUs), "throughput_mean_tps", r, 1-TPWorseThanDPMargin))
			if r < worst {
				worst, at = r, a.GPUs
			}
		}
	}
	return ev, worst, at
}

func (c *seriesCtx) interconnect() string {
	for _, n := range c.f.Series.GPUCounts() {
		if r := c.rows[c.rep[n]]; r != nil && r.Interconnect != "" {
			return r.Interconnect
		}
	}
	return ""
}

func orWord(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

// apiServer: a series growing DP whose largest point is API-server bound, or whose share of
// requests (or latency) outside the engines grows with the ranks.
func (c *seriesCtx) apiServer() (Verdict, bool) {
	if c.f.Series.Grow != "dp" {
		return Verdict{}, false
	}
	rb, rt := c.rows[c.rep[c.base]], c.rows[c.rep[c.top]]
	if rb == nil || rt == nil {
		return Verdict{}, false
	}
	share := func(r *aggregate.Row) float64 {
		return aggregate.V(r.OutsideEngineInflight) / aggregate.V(r.ClientInflightMean)
	}
	rise := atLeast(fmt.Sprintf("rise in the share of in-flight requests outside the engines, %d → %d GPUs", c.base, c.top),
		"outside_engine_inflight", share(rt)-share(rb), OutsideEngineRise)
	feRise := atLeast(fmt.Sprintf("rise in the share of server latency outside the engines, %d → %d GPUs", c.base, c.top),
		"frontend_share_of_e2e", aggregate.V(rt.FrontendShareOfE2E)-aggregate.V(rb.FrontendShareOfE2E), OutsideEngineRise)
	v, _ := c.expVerdict(c.top)
	topEv := fact(fmt.Sprintf("verdict at %d GPUs", c.top), "verdict", v.Code, CodeAPIServer, v.Code == CodeAPIServer)
	if !(topEv.Holds || rise.Holds || feRise.Holds) {
		return missed(CodeAPIServer, anyOf(rise, feRise)), false
	}
	s := fmt.Sprintf("Adding DP ranks behind the same API server does not add throughput in proportion (%s): requests "+
		"increasingly wait outside the engines (%s of those in flight at %d GPUs, %s at %s), because one API-server "+
		"process tokenises, schedules and streams for every rank; add --api-server-count or host CPU.",
		c.topDesc(), pct(share(rt)), c.top, pct(share(rb)), gpuCount(c.base))
	m := anyOf(rise, feRise)
	if topEv.Holds && v.Margin != nil {
		m = math.Max(nanTo(m, math.Inf(-1)), *v.Margin)
	}
	out := Verdict{Code: CodeAPIServer, Label: Label(CodeAPIServer), Sentence: s, Evidence: []Evidence{topEv, rise, feRise}}
	if !math.IsNaN(m) {
		out.Margin = &m
	}
	return out, true
}

// underfilled: the top point's batch was at its cap only on average, with no queue to refill
// it, while the baseline's was fuller: the load did not keep every rank busy between requests
// (a closed loop with as many users as slots), so the top point understates the server.
func (c *seriesCtx) underfilled() (Verdict, bool) {
	rb, rt := c.rows[c.rep[c.base]], c.rows[c.rep[c.top]]
	if rb == nil || rt == nil {
		return Verdict{}, false
	}
	fb, ft := factsOf(rb), factsOf(rt)
	gap := atLeast(fmt.Sprintf("batch fill at %d GPUs minus at %d", c.base, c.top), "running_cap_fraction", fb.capFrac-ft.capFrac,
		FullerBaselineMargin)
	noQueue := below(fmt.Sprintf("requests waiting at %d GPUs (mean)", c.top), "waiting_mean", ft.waiting, ft.queueThr)
	if !gap.Holds || !noQueue.Holds {
		return Verdict{}, false
	}
	s := fmt.Sprintf("At %d GPUs the batch was %s full with no queue to refill it, against %s at %s: the load "+
		"(%s %s) did not keep every rank's batch full between requests, so the top point understates the server (%s); "+
		"measure it with more load (a standing queue, e.g. twice the total batch cap).",
		c.top, pct(ft.capFrac), pct(fb.capFrac), gpuCount(c.base), loadWord(rt), num(rt.ModeLevel()), c.topDesc())
	v := Verdict{Code: CodeNotSaturated, Label: Label(CodeNotSaturated), Sentence: s, Evidence: []Evidence{gap, noQueue}}
	if m := allOf(marginOfOne(gap), marginOfOne(noQueue)); !math.IsNaN(m) {
		v.Margin = &m
	}
	return v, true
}

// topLimit: the largest point's own limit, when it explains sub-linear scaling for this
// strategy (a batch cap does for TP and PP, whose replicas keep one cap; not for DP, where
// every replica brings its own).
func (c *seriesCtx) topLimit() (Verdict, bool) {
	v, ok := c.expVerdict(c.top)
	if !ok {
		return Verdict{}, false
	}
	switch v.Code {
	case CodeKVCache, CodePrefillBudget, CodeAPIServer, CodeGPUBound:
	case CodeBatchCap:
		if c.f.Series.Grow == "dp" {
			return Verdict{}, false
		}
	default:
		return Verdict{}, false
	}
	s := fmt.Sprintf("At %s the server is limited by: %s. %s", c.topDesc(), strings.ToLower(v.Label), v.Sentence)
	if v.Code == CodeBatchCap {
		s += fmt.Sprintf(" More %s GPUs make each step faster but the replica still runs at most max-num-seqs sequences.",
			strings.ToUpper(c.f.Series.Grow))
	}
	return Verdict{Code: v.Code, Label: v.Label, Sentence: s, Evidence: v.Evidence, Missing: v.Missing, Margin: v.Margin}, true
}

func (c *seriesCtx) unknown() Verdict {
	v, _ := c.expVerdict(c.top)
	kf := c.f.Result.KarpFlatt
	s := fmt.Sprintf("The series is sub-linear (%s) and no rule explains it: at %d GPUs the verdict is %q; Karp–Flatt "+
		"says %s (%s).", c.topDesc(), c.top, orWord(v.Label, "none"), kf.Trend, kf.Reason)
	missing := v.Missing
	if r := c.rows[c.rep[c.top]]; r != nil && r.GPUUtilMean == nil {
		missing = appendNew(missing, "GPU telemetry (utilisation, SM activity) to tell a GPU limit")
	}
	if len(missing) > 0 {
		s += " Missing evidence: " + strings.Join(missing, "; ") + "."
	}
	return Verdict{Code: CodeUnknown, Label: Label(CodeUnknown), Sentence: s, Missing: missing}
}

// tableVerdict: a user's table carries no server evidence, only the shape of the curve.
func (c *seriesCtx) tableVerdict() Verdict {
	if c.eff >= NearLinearEfficiency {
		return Verdict{Code: CodeNearLinear, Label: Label(CodeNearLinear), Sentence: fmt.Sprintf("The series scales near-linearly: %s.", c.topDesc())}
	}
	kf := c.f.Result.KarpFlatt
	return Verdict{Code: CodeUnknown, Label: Label(CodeUnknown),
		Sentence: fmt.Sprintf("A table gives throughput only, not what limited it (%s; Karp–Flatt: %s).", c.topDesc(), kf.Trend),
		Missing:  []string{"server metrics and telemetry (a table has none)"}}
}

// fitEvidence is the shape of the curve, added to every series verdict.
func (c *seriesCtx) fitEvidence() []Evidence {
	a, kf := c.f.Result.Amdahl, c.f.Result.KarpFlatt
	sText := num(a.S)
	if !math.IsNaN(a.SInterval.Lo) {
		sText = fmt.Sprintf("%s [%s, %s]", num(a.S), num(a.SInterval.Lo), num(a.SInterval.Hi))
	}
	return []Evidence{
		below(fmt.Sprintf("efficiency at %d GPUs", c.top), "efficiency_at_top", c.eff, NearLinearEfficiency),
		fact("Amdahl serial fraction s", "s", sText, "> 0", a.S > 0),
		fact("Karp–Flatt trend", "karp_flatt_trend", string(kf.Trend), "rising = overhead grows with N", kf.Trend == fit.TrendRising),
	}
}

// gpuCount is "1 GPU" or "n GPUs".
func gpuCount(n int) string {
	if n == 1 {
		return "1 GPU"
	}
	return fmt.Sprintf("%d GPUs", n)
}
