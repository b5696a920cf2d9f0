package diagnose

import (
	"fmt"
	"math"
	"strings"

	"github.com/llmscale/llmscale/internal/aggregate"
	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/results"
)

// ExperimentDiagnosis is the verdict on one experiment, and whether its server was saturated.
type ExperimentDiagnosis struct {
	ExpID   string  `json:"exp_id"`
	Status  string  `json:"status"`
	Verdict Verdict `json:"verdict"`
	// Saturated is true when the verdict names a server limit (batch cap, KV cache, prefill
	// budget, API server, GPU) or a standing queue formed: more load would not have raised
	// throughput. SaturatedReason says why, or why not.
	Saturated       bool   `json:"saturated"`
	SaturatedReason string `json:"saturated_reason"`
	// Suspect says why the measurement may not be the server's (a contended host: its CPU
	// busy or stolen by a hypervisor), "" when nothing was seen.
	Suspect string `json:"suspect,omitempty"`
}

// outcome is what one rule found.
type outcome struct {
	code     string
	holds    bool
	evidence []Evidence
	sentence string
	margin   float64 // how far past its thresholds (negative: how far from holding); NaN unknown
}

// facts are the columns of one row the rules read, NaN when null.
type facts struct {
	r                                 *aggregate.Row
	running, waiting, cap, capFrac    float64
	queueThr, kvMax, preemptRate      float64
	clientInflight, outside, frontend float64
	budgetFrac, queueShare            float64
	sendLagP99, gpuUtil, smActive     float64
	hostCPU, hostSteal, clientFail    float64
	// inflight is what the queue threshold is relative to: the client's requests in flight,
	// else those inside the engines, else the users (or concurrency) offered.
	inflight float64
	// queued is the standing queue: the engines' waiting gauge, or — for an engine without
	// one — the requests in flight at the client above the batch cap. queueCol and queueName
	// say which.
	queued              float64
	queueCol, queueName string
	capVerified         bool
	hasServer, hasGPU   bool
}

func factsOf(r *aggregate.Row) facts {
	v := aggregate.V
	f := facts{r: r, running: v(r.RunningMean), waiting: v(r.WaitingMean), cap: float64(r.BatchCapTotal),
		capFrac: v(r.RunningCapFraction), kvMax: v(r.KVCacheUsageMaxEngine), preemptRate: v(r.PreemptionsPerRequest),
		clientInflight: v(r.ClientInflightMean), frontend: v(r.FrontendShareOfE2E), budgetFrac: v(r.IterationBudgetFrac),
		queueShare: v(r.QueueShareOfTTFT), sendLagP99: v(r.SendLagP99), gpuUtil: v(r.GPUUtilMean), smActive: v(r.SMActiveMean),
		hostCPU: v(r.HostCPUUtil), hostSteal: v(r.HostSteal), clientFail: math.NaN(),
		capVerified: r.BatchCapVerified || r.BatchCapSource == "", hasServer: r.RunningMean != nil, hasGPU: r.GPUUtilMean != nil}
	if f.cap == 0 {
		f.cap = math.NaN()
	}
	if r.ClientFailures != nil && r.RequestsTotal > 0 {
		f.clientFail = *r.ClientFailures / float64(r.RequestsTotal)
	}
	f.inflight = firstNumber(f.clientInflight, f.running+f.waiting, offered(r))
	f.queued, f.queueCol, f.queueName = f.waiting, "waiting_mean", "requests waiting in the engines (mean)"
	if math.IsNaN(f.waiting) && !math.IsNaN(f.cap) && !math.IsNaN(f.clientInflight) {
		f.queued, f.queueCol = math.Max(0, f.clientInflight-f.cap), "client_inflight_mean"
		f.queueName = "requests in flight above the batch cap (the server exports no waiting gauge)"
	}
	f.queueThr = QueueMinRequests
	if !math.IsNaN(f.inflight) {
		f.queueThr = math.Max(QueueMinRequests, QueueInflightFraction*f.inflight)
	}
	f.outside = math.NaN()
	if f.clientInflight > 0 {
		f.outside = v(r.OutsideEngineInflight) / f.clientInflight
	}
	return f
}

// offered is the users (or concurrency) the load offered; NaN in rate mode.
func offered(r *aggregate.Row) float64 {
	if mode := r.LoadMode(); mode.Closed() && r.ModeLevel() > 0 {
		return r.ModeLevel()
	}
	return math.NaN()
}

func firstNumber(vs ...float64) float64 {
	for _, v := range vs {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			return v
		}
	}
	return math.NaN()
}

func (f facts) queueEvidence() Evidence {
	return atLeast(f.queueName, f.queueCol, f.queued, f.queueThr)
}

func (f facts) capEvidence() Evidence {
	e := atLeast("requests running ÷ batch cap", "running_cap_fraction", f.capFrac, AtCapFraction)
	if !f.capVerified {
		e.Name += " (cap as requested, not reported by the server: unverified)"
	}
	return e
}

// anyOf is the margin of a rule that holds when any of the evidence does: the largest.
func anyOf(ev ...Evidence) float64 {
	m := math.NaN()
	for _, e := range ev {
		if e.Margin != nil && (math.IsNaN(m) || *e.Margin > m) {
			m = *e.Margin
		}
	}
	return m
}

// allOf is the margin of a rule that needs all of the evidence (missing ones excused): the
// smallest; NaN when any of the margins is NaN is skipped.
func allOf(ms ...float64) float64 {
	out := math.NaN()
	for _, m := range ms {
		if !math.IsNaN(m) && (math.IsNaN(out) || m < out) {
			out = m
		}
	}
	return out
}

// needAll is allOf for a rule that cannot hold without every piece: NaN when one is missing.
func needAll(ms ...float64) float64 {
	for _, m := range ms {
		if math.IsNaN(m) {
			return math.NaN()
		}
	}
	return allOf(ms...)
}

func marginOfOne(e Evidence) float64 {
	if e.Margin == nil {
		return math.NaN()
	}
	return *e.Margin
}

// ExperimentStage is the first stage: it runs the experiment rules on every summary row and
// returns the rows with their saturated flag and reason set, and the diagnoses, in the order
// of rows. rows is not changed: the result is a copy, so summaries are written once, with
// the flag. It runs before the rows are written or grouped into series (scaling.Build reads
// the flag); a row's diagnosis does not depend on the flag it already has.
func ExperimentStage(rows []aggregate.Row) ([]aggregate.Row, []ExperimentDiagnosis) {
	exps := Experiments(rows)
	out := make([]aggregate.Row, len(rows))
	for i, r := range rows {
		r.Saturated, r.SaturatedReason = exps[i].Saturated, exps[i].SaturatedReason
		out[i] = r
	}
	return out, exps
}

// Experiments diagnoses every row, in order.
func Experiments(rows []aggregate.Row) []ExperimentDiagnosis {
	out := make([]ExperimentDiagnosis, len(rows))
	for i := range rows {
		out[i] = Experiment(&rows[i])
	}
	return out
}

// Experiment diagnoses one experiment from its summary row.
func Experiment(r *aggregate.Row) ExperimentDiagnosis {
	d := ExperimentDiagnosis{ExpID: r.ExpID, Status: r.Status}
	if r.Status != results.StatusDone {
		d.Verdict = failedVerdict(r)
		d.SaturatedReason = "the experiment did not complete"
		return d
	}
	f := factsOf(r)
	outs := f.withSpans([]outcome{f.loadGenerator(), f.apiServer(), f.kvCache(), f.prefillBudget(), f.batchCap(), f.gpuBound(), f.notSaturated()})
	d.Verdict = pick(outs, f)
	d.Saturated, d.SaturatedReason = f.saturation(d.Verdict)
	d.Suspect = f.suspect()
	if d.Suspect != "" {
		d.Verdict.Sentence += " " + d.Suspect
	}
	return d
}

// suspect flags a contended host: the figures may be the host's, not the server's.
func (f facts) suspect() string {
	busy := atLeast("host CPU busy (fraction)", "host_cpu_util", f.hostCPU, HostBusyFraction)
	steal := atLeast("host CPU stolen (fraction)", "host_steal", f.hostSteal, HostStealFraction)
	if !busy.Holds && !steal.Holds {
		return ""
	}
	return fmt.Sprintf("Suspect measurement: the host was contended (CPU %s busy, %s stolen), so the client and the "+
		"server competed for it; rerun on a quieter host before trusting these figures.", pct(f.hostCPU), pct(f.hostSteal))
}

// pick makes the verdict of the first rule that holds, noting the others that hold too and
// those that were close (margins); when none holds the verdict is unknown, with what was
// missing.
func pick(outs []outcome, f facts) Verdict {
	var v *Verdict
	var also, missing []string
	win := -1
	for i, o := range outs {
		missing = appendNew(missing, missingOf(o.evidence)...)
		if !o.holds {
			continue
		}
		if v == nil {
			v, win = &Verdict{Code: o.code, Label: Label(o.code), Sentence: o.sentence, Evidence: o.evidence}, i
			if !math.IsNaN(o.margin) {
				m := o.margin
				v.Margin = &m
			}
			continue
		}
		also = append(also, o.code)
	}
	if !f.capVerified && !math.IsNaN(f.cap) {
		missing = appendNew(missing, "a batch cap reported by the server (the cap used is the one requested)")
	}
	if v == nil {
		return f.unknown(missing)
	}
	v.Also, v.Missing, v.Close = also, missing, closeRules(outs, win)
	if len(v.Close) > 0 {
		v.Sentence += fmt.Sprintf(" This rule held by %s; near or past their own thresholds too: %s.",
			signedPct(*orZero(v.Margin)), strings.Join(v.Close, ", "))
	}
	return *v
}

// closeRules names the rules other than the winner that held or missed by less than
// CloseMargin, with their margins: a verdict that won by rule order over a neighbour that
// cleared (or nearly cleared) its own thresholds says so. The not-saturated and
// load-generator rules are not limits of the server and are never listed.
func closeRules(outs []outcome, win int) []string {
	var out []string
	if outs[win].code == CodeNotSaturated {
		return nil
	}
	for i, o := range outs {
		if i == win || math.IsNaN(o.margin) || o.margin <= -CloseMargin || o.code == CodeNotSaturated || o.code == CodeLoadGenerator {
			continue
		}
		out = append(out, fmt.Sprintf("%s (%s)", o.code, signedPct(o.margin)))
	}
	return out
}

func orZero(p *float64) *float64 {
	if p == nil {
		z := 0.0
		return &z
	}
	return p
}

func appendNew(dst []string, v ...string) []string {
	for _, s := range v {
		if !contains(dst, s) {
			dst = append(dst, s)
		}
	}
	return dst
}

func contains(v []string, s string) bool {
	for _, x := range v {
		if x == s {
			return true
		}
	}
	return false
}

func failedVerdict(r *aggregate.Row) Verdict {
	why := r.FailureReason
	if why == "" {
		why = "no reason recorded"
	}
	s := fmt.Sprintf("The experiment did not complete (status %s): %s.", r.Status, strings.TrimSuffix(why, "."))
	return Verdict{Code: CodeFailed, Label: Label(CodeFailed), Sentence: s}
}

// loadGenerator: the client fell behind its schedule, did not keep the rate, held requests
// back with its in-flight cap, ran out of CPU, or failed requests for its own reasons.
func (f facts) loadGenerator() outcome {
	r := f.r
	ev := []Evidence{measure("send lag p99 (ms)", "send_lag_ms_p99", f.sendLagP99, "> "+num(MaxSendLagP99Ms), f.sendLagP99 > MaxSendLagP99Ms)}
	ev[0] = withMargin(ev[0], (f.sendLagP99-MaxSendLagP99Ms)/MaxSendLagP99Ms)
	if r.LoadMode() == loadspec.ModeRate {
		ach := aggregate.V(r.AchievedRate) / aggregate.V(r.ScheduledRate)
		ev = append(ev, below("achieved ÷ scheduled rate", "achieved_rate_rps", ach, MinAchievedRateFraction))
		ev = append(ev, atLeast("requests never sent (in-flight cap)", "not_sent", float64(r.NotSent), 1))
	}
	cpuEv := atLeast("busiest load worker's CPU ÷ its cores", "client_cpu_max_fraction", aggregate.V(r.ClientCPUMaxFraction), ClientCPUFraction)
	if cpuEv.Missing() {
		cpuEv.Name = "load generator CPU (recorded only with several load workers)"
	}
	ev = append(ev, cpuEv)
	if !math.IsNaN(f.clientFail) {
		ev = append(ev, atLeast("requests failed for the client's own reasons (descriptors, ports, local timeouts) ÷ requests", "client_failures", f.clientFail, ClientFailureFraction))
	}
	o := outcome{code: CodeLoadGenerator, evidence: ev, margin: anyOf(ev...)}
	var why []string
	for _, e := range ev {
		if e.Holds {
			o.holds = true
			why = append(why, e.Name+" "+e.Text)
		}
	}
	o.sentence = fmt.Sprintf("The load generator was the limit (%s): requests left later than the load asked or failed "+
		"in the client, so the server was not offered the load the experiment names; give the client more CPU, workers "+
		"or file descriptors, or raise max_inflight.", strings.Join(why, ", "))
	return o
}

// apiServer: requests are in flight at the client but not in any engine, while the engines'
// batches are not full: the API server (or the host) cannot feed them.
func (f facts) apiServer() outcome {
	out := atLeast("share of in-flight requests outside the engines", "outside_engine_inflight", f.outside, OutsideEngineFraction)
	// The share needs a few requests behind it: its margin is the smaller of the two.
	cnt := atLeast("requests in flight outside the engines (mean)", "outside_engine_inflight",
		aggregate.V(f.r.OutsideEngineInflight), OutsideEngineMinRequests)
	fe := atLeast("share of server latency outside the engines", "frontend_share_of_e2e", f.frontend, FrontendShare)
	notFull := below("requests running ÷ batch cap", "running_cap_fraction", f.capFrac, AtCapFraction)
	ev := []Evidence{out, cnt, fe, notFull, below("GPU utilisation (%)", "gpu_util_pct_mean", f.gpuUtil, GPUIdlePct)}
	holds := ((out.Holds && cnt.Holds) || fe.Holds) && (notFull.Holds || notFull.Missing())
	either := math.Max(nanTo(needAll(marginOfOne(out), marginOfOne(cnt)), math.Inf(-1)), nanTo(marginOfOne(fe), math.Inf(-1)))
	if math.IsInf(either, -1) {
		either = math.NaN()
	}
	s := fmt.Sprintf("Requests waited outside the engines: %s of the %s requests in flight at the client were neither "+
		"running nor queued in an engine, and %s of the server's latency was spent outside them, while the engines ran "+
		"%s of their batch cap: the API server (one serial process per --api-server-count) or the host could not feed "+
		"them; add API servers or CPU.", pct(f.outside), num(f.clientInflight), pct(f.frontend), pct(f.capFrac))
	return outcome{code: CodeAPIServer, holds: holds, evidence: ev, sentence: s,
		margin: needAll(either, nanTo(marginOfOne(notFull), math.Inf(1)))}
}

// kvCache: the KV cache filled up and requests were preempted.
func (f facts) kvCache() outcome {
	kv := atLeast("fullest engine's KV-cache usage (max)", "kv_cache_usage_max_engine", f.kvMax, KVFullFraction)
	pre := atLeast("preemptions per finished request", "preemptions_per_request", f.preemptRate, PreemptionRate)
	notFull := below("requests running ÷ batch cap", "running_cap_fraction", f.capFrac, AtCapFraction)
	holds := pre.Holds || (kv.Holds && !(f.capFrac >= AtCapFraction))
	s := fmt.Sprintf("The KV cache was full (fullest engine %s, %s preemptions per request) and held the batch at %s of "+
		"its cap: memory for KV, not the batch cap, limits how many requests run; use more GPUs per replica (TP), a "+
		"higher --gpu-memory-utilization, a smaller model or shorter contexts.", pct(f.kvMax), num(f.preemptRate), pct(f.capFrac))
	m := math.Max(nanTo(marginOfOne(pre), math.Inf(-1)), nanTo(allOf(marginOfOne(kv), marginOfOne(notFull)), math.Inf(-1)))
	if math.IsInf(m, -1) {
		m = math.NaN()
	}
	return outcome{code: CodeKVCache, holds: holds, evidence: []Evidence{kv, pre, notFull, f.queueEvidence()}, sentence: s, margin: m}
}

func nanTo(v, alt float64) float64 {
	if math.IsNaN(v) {
		return alt
	}
	return v
}

// prefillBudget: steps are filled to max-num-batched-tokens and TTFT is mostly queueing.
func (f facts) prefillBudget() outcome {
	fill := atLeast("tokens per engine step ÷ max-num-batched-tokens", "iteration_budget_fraction", f.budgetFrac, BudgetFillFraction)
	qs := atLeast("engine queue time ÷ TTFT", "queue_share_of_ttft", f.queueShare, QueueShareOfTTFT)
	q := f.queueEvidence()
	s := fmt.Sprintf("Engine steps were %s full of the token budget (--max-num-batched-tokens %d) and %s of TTFT was "+
		"queueing, with %s of %s requests in flight waiting: prompts wait for prefill budget; raise "+
		"--max-num-batched-tokens (more TTFT per step, fewer waits).",
		pct(f.budgetFrac), f.r.MaxNumBatchedTokens, pct(f.queueShare), num(f.queued), num(f.inflight))
	return outcome{code: CodePrefillBudget, holds: fill.Holds && qs.Holds && q.Holds, evidence: []Evidence{fill, qs, q}, sentence: s,
		margin: needAll(marginOfOne(fill), marginOfOne(qs), marginOfOne(q))}
}

// batchCap: the batch is full (max-num-seqs per engine, slots for llama.cpp).
func (f facts) batchCap() outcome {
	c, q := f.capEvidence(), f.queueEvidence()
	flag := capFlag(f.r.Engine)
	var tail string
	if q.Holds {
		tail = fmt.Sprintf("with %s requests queued: the server runs as many sequences as it is allowed; a higher %s "+
			"raises throughput while the KV cache and the GPUs have room.", num(f.queued), flag)
	} else {
		tail = fmt.Sprintf("with no standing queue: the load (%s %s) just fills the batch, so it did not show whether a "+
			"higher %s would help; measure more load (more %s than the cap) first.", loadWord(f.r), num(f.r.ModeLevel()), flag, loadWord(f.r))
	}
	s := fmt.Sprintf("Requests running reached the batch cap (%s of %s, %s %d × %d engines) %s", num(f.running), num(f.cap),
		flag, f.r.MaxNumSeqs, max(f.r.Engines, 1), tail)
	return outcome{code: CodeBatchCap, holds: c.Holds, evidence: []Evidence{c, q}, sentence: s, margin: marginOfOne(c)}
}

// capFlag is the engine's setting for the batch cap.
func capFlag(engine string) string {
	switch engine {
	case "llamacpp":
		return "--parallel (slots)"
	case "sglang":
		return "--max-running-requests"
	case "tgi":
		return "--max-batch-size"
	}
	return "--max-num-seqs"
}

// gpuBound: the GPUs are busy.
func (f facts) gpuBound() outcome {
	u := atLeast("GPU utilisation (%)", "gpu_util_pct_mean", f.gpuUtil, GPUBusyPct)
	sm := atLeast("SM active (%)", "sm_active_pct_mean", f.smActive, SMActiveBusyPct)
	if sm.Missing() {
		sm.Name = "SM active (%) (needs DCGM or GPM)"
	}
	holds := u.Holds && (sm.Holds || sm.Missing())
	s := fmt.Sprintf("The GPUs were busy (utilisation %s %%, SM active %s %%) without a batch, KV-cache or API-server "+
		"limit: the hardware is the limit; more GPUs (DP) or a faster GPU raise throughput.", num(f.gpuUtil), num(f.smActive))
	return outcome{code: CodeGPUBound, holds: holds, evidence: []Evidence{u, sm}, sentence: s,
		margin: needAll(marginOfOne(u), nanTo(marginOfOne(sm), math.Inf(1)))}
}

// notSaturated: the server had room: batch below its cap, no standing queue, KV cache with room.
func (f facts) notSaturated() outcome {
	c := below("requests running ÷ batch cap", "running_cap_fraction", f.capFrac, AtCapFraction)
	q := below(f.queueName, f.queueCol, f.queued, f.queueThr)
	kv := below("fullest engine's KV-cache usage (max)", "kv_cache_usage_max_engine", f.kvMax, KVFullFraction)
	pre := below("preemptions per finished request", "preemptions_per_request", f.preemptRate, PreemptionRate)
	gpu := below("GPU utilisation (%)", "gpu_util_pct_mean", f.gpuUtil, GPUIdlePct)
	holds := f.hasServer && (c.Holds || c.Missing()) && q.Holds && (kv.Holds || kv.Missing()) && (pre.Holds || pre.Missing())
	s := fmt.Sprintf("The server was not saturated: %s requests ran on a batch cap of %s, %s waited, the KV cache "+
		"peaked at %s: the test, not the server, was the limit (%s %s); measure more load to find the server's capacity.",
		num(f.running), num(f.cap), num(f.queued), pct(f.kvMax), loadWord(f.r), num(f.r.ModeLevel()))
	return outcome{code: CodeNotSaturated, holds: holds, evidence: []Evidence{c, q, kv, pre, gpu}, sentence: s,
		margin: allOf(marginOfOne(c), marginOfOne(q), marginOfOne(kv), marginOfOne(pre))}
}

// unknown: no rule holds.
func (f facts) unknown(missing []string) Verdict {
	v := Verdict{Code: CodeUnknown, Label: Label(CodeUnknown), Missing: missing,
		Evidence: []Evidence{f.capEvidence(), f.queueEvidence(),
			atLeast("fullest engine's KV-cache usage (max)", "kv_cache_usage_max_engine", f.kvMax, KVFullFraction),
			atLeast("tokens per engine step ÷ max-num-batched-tokens", "iteration_budget_fraction", f.budgetFrac, BudgetFillFraction)}}
	switch {
	case !f.hasServer && f.r.ServerMetricsFiles > 0:
		v.Sentence = fmt.Sprintf("The server's /metrics were recorded but gave no requests-running gauge (engine families "+
			"found: %s; docs/analysis.md lists the metrics read for vLLM, SGLang, llama.cpp and TGI), so what limited "+
			"the server cannot be told; the client-side figures stand.", orWord(f.r.ServerMetricsEngine, "none known"))
	case !f.hasServer:
		v.Sentence = "No server metrics were recorded (no /metrics, or it failed), so what limited the server cannot be told; " +
			"the client-side figures stand."
	default:
		v.Sentence = fmt.Sprintf("No rule explains this experiment: %s requests ran (batch cap %s), %s waited, KV cache "+
			"peaked at %s, steps used %s of the token budget.", num(f.running), num(f.cap), num(f.queued), pct(f.kvMax), pct(f.budgetFrac))
	}
	if len(missing) > 0 {
		v.Sentence += " Missing evidence: " + strings.Join(missing, "; ") + "."
	}
	return v
}

// saturation decides the saturated flag from the verdict.
func (f facts) saturation(v Verdict) (bool, string) {
	switch v.Code {
	case CodeBatchCap, CodeKVCache, CodePrefillBudget, CodeAPIServer, CodeGPUBound:
		return true, v.Label + ": " + v.Sentence
	case CodeNotSaturated:
		return false, v.Sentence
	case CodeLoadGenerator:
		return false, "the load generator was the limit, so the server may have had room: " + v.Sentence
	}
	if f.queued >= f.queueThr {
		return true, fmt.Sprintf("a standing queue formed (%s: %s)", f.queueName, num(f.queued))
	}
	return false, "cannot tell: " + v.Sentence
}

func loadWord(r *aggregate.Row) string {
	switch r.LoadMode() {
	case loadspec.ModeRate:
		return "request rate"
	case loadspec.ModeConcurrency:
		return "concurrency"
	}
	return "users"
}

// pct formats a fraction as a percentage, "?" when missing.
func pct(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "?"
	}
	if v != 0 && math.Abs(v) < 0.1 {
		return fmt.Sprintf("%.1f%%", 100*v)
	}
	return fmt.Sprintf("%.0f%%", 100*v)
}
