// Package diagnose names what limited every experiment and why every scaling series is
// sub-linear, from evidence: the columns of summary_metrics (what the clients, the server's
// /metrics and the GPUs measured) and the scaling fits. Each verdict has a code, a label, one
// sentence and its evidence — the measured value, the threshold it was held against and
// whether it holds — and names the evidence that was missing. Rules and thresholds are named
// constants (thresholds.go), documented in docs/analysis.md ("Bottleneck diagnosis").
//
// The rules run in two stages, in this order:
//
//  1. ExperimentStage (experiment.go) runs the experiment rules on each summary row, before
//     the rows are written or grouped into series: it returns the rows with their saturated
//     flag and reason set, which summary_metrics records and scaling.Build reads.
//  2. SeriesStage (series.go) runs the series rules on each scaling fit, after the fits: it
//     takes the rows and experiment diagnoses of stage 1 and returns the whole Diagnosis,
//     which diagnosis.csv and diagnosis.json record.
//
// All runs both on rows and fits at hand.
package diagnose

import (
	"fmt"
	"math"
	"strconv"
)

// Verdict codes.
const (
	CodeNotSaturated  = "not_saturated"        // the test is the limit: the server had room
	CodeLoadGenerator = "load_generator_bound" // the client fell behind (send lag, rate, in-flight cap, CPU)
	CodeBatchCap      = "batch_cap"            // requests running at max-num-seqs
	CodeKVCache       = "kv_cache"             // KV cache full, requests preempted
	CodePrefillBudget = "prefill_budget"       // max-num-batched-tokens full, TTFT is queueing
	CodeAPIServer     = "api_server_bound"     // requests wait outside the engines: the API server (host) is the limit
	CodeTPComm        = "tp_communication"     // TP scales worse than DP at the same GPU count
	CodeGPUBound      = "gpu_bound"            // the GPUs are busy: the hardware is the limit
	CodeNearLinear    = "near_linear"          // a series that scales near-linearly: nothing to explain
	CodeCapacity      = "capacity_effect"      // super-linear step: the smaller configuration was KV- or memory-starved
	CodeSuspect       = "suspect_measurement"  // super-linear or erratic points no capacity effect explains
	CodeFailed        = "failed"               // the experiment did not complete
	CodeUnknown       = "unknown"              // not enough evidence; Missing says what is missing
)

// Label is the human name of a verdict code.
func Label(code string) string {
	switch code {
	case CodeNotSaturated:
		return "Server not saturated"
	case CodeLoadGenerator:
		return "Load generator bound"
	case CodeBatchCap:
		return "Batch cap reached"
	case CodeKVCache:
		return "KV cache full"
	case CodePrefillBudget:
		return "Prefill token budget"
	case CodeAPIServer:
		return "API server / host bound"
	case CodeTPComm:
		return "TP communication"
	case CodeGPUBound:
		return "GPU bound"
	case CodeNearLinear:
		return "Scales near-linearly"
	case CodeCapacity:
		return "Capacity effect (super-linear)"
	case CodeSuspect:
		return "Suspect measurement"
	case CodeFailed:
		return "Experiment failed"
	case CodeUnknown:
		return "Unknown"
	}
	return code
}

// Verdict is one conclusion: a code, its label, one sentence, and the evidence.
type Verdict struct {
	Code     string     `json:"code"`
	Label    string     `json:"label"`
	Sentence string     `json:"sentence"`
	Evidence []Evidence `json:"evidence"`
	// Missing names evidence that could not be weighed (no GPU telemetry, no server metrics…).
	Missing []string `json:"missing,omitempty"`
	// Also lists the codes of other rules that held too, in rule order.
	Also []string `json:"also,omitempty"`
	// Margin is how far past its thresholds the rule held: the smallest relative margin of the
	// evidence it required (0.25 = 25 % past the threshold). nil when it has none to weigh.
	Margin *float64 `json:"margin,omitempty"`
	// Close names the other rules that held or nearly held (margin above −CloseMargin), each
	// with its margin, e.g. "kv_cache (+2%)": when two rules are close, both are named.
	Close []string `json:"close,omitempty"`
}

// Evidence is one measured fact weighed by a rule.
type Evidence struct {
	Name      string   `json:"name"`             // what it is, in words
	Column    string   `json:"column,omitempty"` // the summary_metrics (or fit) column it comes from
	Value     *float64 `json:"value"`            // nil when missing or not a number
	Text      string   `json:"text"`             // Value formatted (or a word: "pcie", "rising"); "missing"
	Threshold string   `json:"threshold"`        // e.g. "≥ 0.9"
	Holds     bool     `json:"holds"`            // the value meets the threshold (supports the rule)
	// Margin is how far the value is past the threshold, relative to it: positive when it
	// holds ((v − t)/t for "≥ t", (t − v)/t for "< t"), negative when it misses; nil when
	// missing or the threshold is 0.
	Margin *float64 `json:"margin,omitempty"`
}

// missingText is the Text of evidence whose value was not available.
const missingText = "missing"

// Missing reports whether the value was not available.
func (e Evidence) Missing() bool { return e.Text == missingText }

// String is "name = value (threshold: holds)".
func (e Evidence) String() string {
	mark := "no"
	if e.Holds {
		mark = "yes"
	}
	if e.Margin != nil {
		return fmt.Sprintf("%s = %s (%s: %s, margin %s)", e.Name, e.Text, e.Threshold, mark, signedPct(*e.Margin))
	}
	return fmt.Sprintf("%s = %s (%s: %s)", e.Name, e.Text, e.Threshold, mark)
}

// MarginText is the margin as "+12%" or "−3%", "" without one.
func (e Evidence) MarginText() string {
	if e.Margin == nil {
		return ""
	}
	return signedPct(*e.Margin)
}

// signedPct formats a relative margin as "+12%" or "−3%".
func signedPct(m float64) string {
	switch {
	case math.IsInf(m, 1) || m > 99:
		return "+>9900%"
	case m >= 0:
		return fmt.Sprintf("+%.0f%%", 100*m)
	}
	return fmt.Sprintf("−%.0f%%", -100*math.Max(m, -99))
}

// measure makes the evidence of value v (NaN when missing) against a threshold.
func measure(name, column string, v float64, threshold string, holds bool) Evidence {
	e := Evidence{Name: name, Column: column, Threshold: threshold}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		e.Text = missingText
		return e
	}
	e.Value, e.Text, e.Holds = &v, num(v), holds
	return e
}

// fact is evidence that is not a number (an interconnect, a trend); text "" is missing.
func fact(name, column, text, threshold string, holds bool) Evidence {
	if text == "" {
		return Evidence{Name: name, Column: column, Text: missingText, Threshold: threshold}
	}
	return Evidence{Name: name, Column: column, Text: text, Threshold: threshold, Holds: holds}
}

// atLeast is evidence that holds when v ≥ thr.
func atLeast(name, column string, v, thr float64) Evidence {
	return withMargin(measure(name, column, v, "≥ "+num(thr), v >= thr), (v-thr)/math.Abs(thr))
}

// atMost is evidence that holds when v ≤ thr.
func atMost(name, column string, v, thr float64) Evidence {
	return withMargin(measure(name, column, v, "≤ "+num(thr), v <= thr), (thr-v)/math.Abs(thr))
}

// below is evidence that holds when v < thr.
func below(name, column string, v, thr float64) Evidence {
	return withMargin(measure(name, column, v, "< "+num(thr), v < thr), (thr-v)/math.Abs(thr))
}

func withMargin(e Evidence, m float64) Evidence {
	if e.Value != nil && !math.IsNaN(m) && !math.IsInf(m, 0) {
		e.Margin = &m
	}
	return e
}

// num formats a value with three significant digits, integers as they are.
func num(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "?"
	}
	if v == math.Trunc(v) && math.Abs(v) < 1e9 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	a := math.Abs(v)
	switch {
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// missingOf lists the names of the missing evidence.
func missingOf(ev []Evidence) []string {
	var out []string
	for _, e := range ev {
		if e.Missing() {
			out = append(out, e.Name)
		}
	}
	return out
}
