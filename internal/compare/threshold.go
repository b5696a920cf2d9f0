package compare

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Threshold kinds: what the number of a threshold is compared with.
const (
	ThresholdRelative = "relative" // "ttft_ms_p99>+10%": the relative change B vs A, in percent
	ThresholdDelta    = "delta"    // "ttft_ms_p99>+50": the change B − A, in the metric's unit (a sign is required)
	ThresholdAbsolute = "absolute" // "ttft_ms_p99>500": B's value itself
)

// Threshold is one --fail-on condition: the comparison fails when it holds for a point.
type Threshold struct {
	Text   string
	Metric string // summary_metrics column
	Op     string // >, >=, <, <=
	Value  float64
	Kind   string
}

// ParseThresholds reads a comma-separated list of conditions METRIC OP VALUE, e.g.
// "p99_ttft_ms>+10%,output_throughput_tps<-5%,ttft_ms_p50>+20,e2e_ms_p99>5000".
// VALUE ending in % is a relative change, a signed number a change in the metric's unit, an
// unsigned number a bound on B's value.
func ParseThresholds(spec string) ([]Threshold, error) {
	var out []Threshold
	cols := columnsOf()
	for part := range strings.SplitSeq(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		t, err := parseThreshold(cols, part)
		if err != nil {
			return nil, fmt.Errorf("--fail-on %q: %w", part, err)
		}
		out = append(out, t)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--fail-on %q: no condition; write e.g. 'p99_ttft_ms>+10%%'", spec)
	}
	return out, nil
}

func parseThreshold(cols map[string]column, s string) (Threshold, error) {
	i := strings.IndexAny(s, "<>")
	if i <= 0 {
		return Threshold{}, fmt.Errorf("want METRIC OP VALUE with OP one of > >= < <=, e.g. p99_ttft_ms>+10%%")
	}
	t := Threshold{Text: s, Op: s[i : i+1]}
	rest := s[i+1:]
	if strings.HasPrefix(rest, "=") {
		t.Op, rest = t.Op+"=", rest[1:]
	}
	metric, err := resolveMetric(cols, s[:i])
	if err != nil {
		return Threshold{}, err
	}
	t.Metric = metric
	rest = strings.TrimSpace(rest)
	t.Kind = ThresholdAbsolute
	switch {
	case strings.HasSuffix(rest, "%"):
		t.Kind, rest = ThresholdRelative, strings.TrimSuffix(rest, "%")
	case strings.HasPrefix(rest, "+"), strings.HasPrefix(rest, "-"):
		t.Kind = ThresholdDelta
	}
	v, err := strconv.ParseFloat(rest, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return Threshold{}, fmt.Errorf("%q is not a number (a change: +10%% or -5 ; a bound: 500)", rest)
	}
	t.Value = v
	return t, nil
}

// Violation is a threshold that held for a point.
type Violation struct {
	Threshold Threshold
	Point     string
	Observed  float64 // the relative change in percent, the change, or B's value
	Change    Change
}

// ThresholdReport is the outcome of every threshold.
type ThresholdReport struct {
	Violations []Violation
	// Unchecked are thresholds no matched point had a value for: a check that could not run
	// fails too, so a renamed metric or an empty comparison never passes CI silently.
	Unchecked []Threshold
}

// Failed reports whether CI should fail.
func (r ThresholdReport) Failed() bool { return len(r.Violations) > 0 || len(r.Unchecked) > 0 }

// Check evaluates the thresholds on every point of res. With significantOnly, a change within
// the run-to-run noise (or of unknown noise) does not count for relative and delta thresholds.
func Check(res Result, ts []Threshold, significantOnly bool) ThresholdReport {
	var rep ThresholdReport
	for _, t := range ts {
		checked := false
		for _, p := range res.Points {
			for _, c := range p.Changes {
				if c.Metric != t.Metric || !c.Comparable {
					continue
				}
				obs, ok := t.observed(c)
				if !ok {
					continue
				}
				checked = true
				if t.holds(obs) && (!significantOnly || t.Kind == ThresholdAbsolute || c.Beyond) {
					rep.Violations = append(rep.Violations, Violation{Threshold: t, Point: p.Label, Observed: obs, Change: c})
				}
			}
		}
		if !checked {
			rep.Unchecked = append(rep.Unchecked, t)
		}
	}
	return rep
}

func (t Threshold) observed(c Change) (float64, bool) {
	switch t.Kind {
	case ThresholdRelative:
		return c.Rel * 100, !math.IsNaN(c.Rel)
	case ThresholdDelta:
		return c.Delta, true
	}
	return c.B, true
}

func (t Threshold) holds(v float64) bool {
	switch t.Op {
	case ">":
		return v > t.Value
	case ">=":
		return v >= t.Value
	case "<":
		return v < t.Value
	}
	return v <= t.Value
}

// MetricsOf lists the metrics the thresholds need, so they are compared even when not shown.
func MetricsOf(ts []Threshold) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Metric
	}
	return out
}
