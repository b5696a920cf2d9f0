package report

import (
	"fmt"
	"strings"

	"github.com/llmscale/llmscale/internal/diagnose"
	"github.com/llmscale/llmscale/internal/report/charts"
	"github.com/llmscale/llmscale/internal/report/format"
	"github.com/llmscale/llmscale/internal/reportdata"
)

// answer is the report's conclusion for one series: the headline numbers and one sentence
// each for the scaling, the Amdahl fit, the Karp–Flatt trend and the bottleneck.
type answer struct {
	Name    string   `json:"name"`
	Color   string   `json:"color"`
	GPUs    string   `json:"gpus"`    // "1 → 8 GPUs"
	AtGPUs  string   `json:"at_gpus"` // "8 GPUs"
	Speedup string   `json:"speedup"`
	Eff     string   `json:"efficiency"`
	S       string   `json:"s"`
	SRange  string   `json:"s_range"`
	Trend   string   `json:"trend"`
	KF      string   `json:"karp_flatt_values,omitempty"` // "e(2) 0.20 · e(4) 0.28"
	Verdict string   `json:"verdict"`                     // label
	Code    string   `json:"verdict_code"`                // for the badge's colour
	Lines   []string `json:"sentences"`
	// Bottleneck is the series verdict's sentence, shown apart.
	Bottleneck string `json:"bottleneck,omitempty"`
	// Goodput is "3.1 of 4.2 req/s" at the largest GPU count: the requests that met every SLO
	// beside all that completed; "" without SLOs.
	Goodput  string   `json:"goodput,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}

func answers(ss []reportdata.Series) []answer {
	out := make([]answer, 0, len(ss))
	for i, s := range ss {
		out = append(out, seriesAnswer(i, s))
	}
	return out
}

func seriesAnswer(i int, s reportdata.Series) answer {
	a := answer{Name: s.Name, Color: charts.SeriesColor(i), Speedup: "–", Eff: "–", S: "–", Trend: trendClass(s.KarpFlattTrend)}
	a.Verdict, a.Code = s.Verdict.Label, verdictClass(s.Verdict.Code)
	if len(s.Points) == 0 {
		a.Lines = []string{"No GPU count of this series produced a measurement."}
		return a
	}
	first, last := s.Points[0], s.Points[len(s.Points)-1]
	a.GPUs, a.AtGPUs = fmt.Sprintf("%d → %s", first.GPUs, charts.GPULabel(last.GPUs)), charts.GPULabel(last.GPUs)
	a.Speedup, a.Eff = format.Speedup(last.Speedup), format.Pct(last.Efficiency)
	a.Lines = append(a.Lines, scalingSentence(s, first, last))
	if am := s.Amdahl; am != nil {
		a.S = format.Param(am.S)
		if am.SLo != nil && am.SHi != nil {
			a.SRange = fmt.Sprintf("%s–%s", format.Param(*am.SLo), format.Param(*am.SHi))
		}
	}
	if a.Trend == "unknown" { // too few points for a trend: show what there is
		a.KF = karpFlattValues(s.Points, " · ", " ")
	}
	if g := goodputSentence(first, last); g != "" {
		a.Lines = append(a.Lines, g)
		a.Goodput = fmt.Sprintf("%s of %s req/s", format.Num(*last.Goodput), format.Num(last.RequestThroughput))
	}
	a.Lines = append(a.Lines, amdahlSentence(s), karpFlattSentence(s))
	if u := uslSentence(s.USL); u != "" {
		a.Lines = append(a.Lines, u)
	}
	a.Bottleneck = strings.TrimSpace(s.Verdict.Sentence)
	a.Warnings = saturationWarnings(s)
	return a
}

// headline compares the series in one sentence: the best and the worst efficiency at their
// largest GPU count (one series: its result).
func headline(ss []reportdata.Series) string {
	best, worst := -1, -1
	for i, s := range ss {
		if len(s.Points) < 2 {
			continue
		}
		e := s.Points[len(s.Points)-1].Efficiency
		if best < 0 || e > ss[best].Points[len(ss[best].Points)-1].Efficiency {
			best = i
		}
		if worst < 0 || e < ss[worst].Points[len(ss[worst].Points)-1].Efficiency {
			worst = i
		}
	}
	switch {
	case best < 0:
		return ""
	case best == worst:
		return reach(ss[best]) + limitedBy(ss[best]) + "."
	}
	return "Best: " + reach(ss[best]) + ". Worst: " + reach(ss[worst]) + limitedBy(ss[worst]) + "."
}

// reach is "DP-only · medium reaches 6.3× on 8 GPUs (79 % efficiency)".
func reach(s reportdata.Series) string {
	p := s.Points[len(s.Points)-1]
	return fmt.Sprintf("%s reaches %s on %s (%s efficiency)", s.Name, format.Speedup(p.Speedup), charts.GPULabel(p.GPUs), format.Pct(p.Efficiency))
}

func limitedBy(s reportdata.Series) string {
	if s.Verdict.Label == "" {
		return ""
	}
	return " — bottleneck: " + s.Verdict.Label
}

func scalingSentence(s reportdata.Series, first, last reportdata.SeriesPoint) string {
	ideal := float64(last.GPUs) / float64(max(first.GPUs, 1))
	return fmt.Sprintf("From %s to %d, output throughput grows %s (ideal %s): %s efficiency, %s → %s tokens/s.",
		charts.GPULabel(first.GPUs), last.GPUs, format.Speedup(last.Speedup), format.Speedup(ideal), format.Pct(last.Efficiency),
		format.Num(first.Throughput), format.Num(last.Throughput))
}

// goodputSentence tells how goodput (requests/s meeting every SLO) scaled beside throughput:
// a server can double its tokens/s while fewer requests meet their objectives.
func goodputSentence(first, last reportdata.SeriesPoint) string {
	if first.Goodput == nil || last.Goodput == nil {
		return ""
	}
	share := func(p reportdata.SeriesPoint) string {
		if p.RequestThroughput > 0 {
			return format.Pct(*p.Goodput / p.RequestThroughput)
		}
		return "–"
	}
	change := "–"
	if *first.Goodput > 0 {
		change = format.Speedup(*last.Goodput / *first.Goodput)
	}
	return fmt.Sprintf("Goodput (requests/s meeting every SLO) goes %s → %s req/s (%s; %s → %s of the requests met the SLOs).",
		format.Num(*first.Goodput), format.Num(*last.Goodput), change, share(first), share(last))
}

func amdahlSentence(s reportdata.Series) string {
	am := s.Amdahl
	if am == nil {
		return "Amdahl's law could not be fitted to this series."
	}
	interval := ""
	if am.SLo != nil && am.SHi != nil {
		interval = fmt.Sprintf(" (%.0f %% interval %s–%s)", confidence(am)*100, format.Param(*am.SLo), format.Param(*am.SHi))
	}
	if am.S <= 0 {
		return fmt.Sprintf("Amdahl's serial fraction s = 0%s: the points scale linearly, no serial part is visible.", interval)
	}
	return fmt.Sprintf("Amdahl's serial fraction s = %s%s: however many GPUs, the speedup stays below 1/s ≈ %s.",
		format.Param(am.S), interval, format.Speedup(1/am.S))
}

func confidence(am *reportdata.AmdahlFit) float64 {
	if am.Confidence > 0 && am.Confidence < 1 {
		return am.Confidence
	}
	return 0.95
}

// trendClass is the trend for display: rising, flat, falling or unknown.
func trendClass(t string) string {
	switch t {
	case "rising", "flat", "falling":
		return t
	}
	return "unknown"
}

func karpFlattSentence(s reportdata.Series) string {
	switch s.KarpFlattTrend {
	case "rising":
		return "Karp–Flatt e(N) rises with N: an overhead that grows with the GPU count (communication, coordination), not a fixed serial part."
	case "flat":
		return "Karp–Flatt e(N) is flat: a fixed serial part, as Amdahl's law assumes."
	case "falling":
		return "Karp–Flatt e(N) falls with N: larger configurations do better than Amdahl's law predicts."
	}
	values := ""
	if v := karpFlattValues(s.Points, ", ", " = "); v != "" {
		values = " (" + v + ")"
	}
	if r := strings.TrimSpace(s.KarpFlattReason); r != "" {
		return "Karp–Flatt trend unknown: " + strings.TrimSuffix(r, ".") + values + "."
	}
	return "Karp–Flatt trend unknown" + values + "."
}

// karpFlattValues lists e(N) at each GPU count that has one, "e(2) = 0.20, e(4) = 0.28".
func karpFlattValues(ps []reportdata.SeriesPoint, sep, eq string) string {
	var parts []string
	for _, p := range ps {
		if p.KarpFlatt != nil {
			parts = append(parts, fmt.Sprintf("e(%d)%s%s", p.GPUs, eq, format.Param(*p.KarpFlatt)))
		}
	}
	return strings.Join(parts, sep)
}

func uslSentence(u reportdata.USLFit) string {
	if !u.Fitted || u.Peak <= 0 {
		return ""
	}
	return fmt.Sprintf("The Universal Scalability Law (σ = %s, κ = %s) puts the throughput peak near N* ≈ %.0f GPUs: beyond it, more GPUs make it slower.",
		format.Param(u.Sigma), format.Param(u.Kappa), u.Peak)
}

// saturationWarnings names the GPU counts whose throughput is a lower bound.
func saturationWarnings(s reportdata.Series) []string {
	var unsat []string
	for _, p := range s.Points {
		if !p.Saturated {
			unsat = append(unsat, charts.GPULabel(p.GPUs))
		}
	}
	if len(unsat) == 0 {
		return nil
	}
	return []string{fmt.Sprintf("Not saturated at %s: the campaign's highest load did not saturate the server, so that throughput is a lower bound and the fit understates how far the series scales.",
		strings.Join(unsat, ", "))}
}

// verdictClass maps a verdict code (package diagnose's codes) to a badge colour: "warn"
// (amber) for verdicts that say the test itself limited the result (server not saturated, load
// generator bound), "good" (green) for a server whose GPUs are the limit or a series that
// scales near-linearly, "none" (grey) without a verdict or evidence, and "bad" (red) for
// every other bottleneck and for a failed experiment. A code this version does not know is
// "bad": it names some limit.
func verdictClass(code string) string {
	switch code {
	case "", diagnose.CodeUnknown:
		return "none"
	case diagnose.CodeNotSaturated, diagnose.CodeLoadGenerator:
		return "warn"
	case diagnose.CodeGPUBound, diagnose.CodeNearLinear:
		return "good"
	}
	return "bad"
}
