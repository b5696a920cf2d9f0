package report

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/llmscale/llmscale/internal/report/charts"
	"github.com/llmscale/llmscale/internal/report/format"
	"github.com/llmscale/llmscale/internal/reportdata"
)

// verdictView is a verdict with its badge colour and, in the time-series panel, the
// experiment's headline numbers.
type verdictView struct {
	Verdict  *reportdata.Verdict
	Class    string
	Headline string
}

type diagRow struct {
	verdictView
	Index                          int // its timeline group, -1 without one
	ID, Label                      string
	Throughput, PerGPU, TTFT, TPOT string
}

type measureRow struct {
	ID, Status string
	Cells      []string
}

type failedRow struct {
	ID, Label, Status, Reason string
}

func title(c reportdata.Campaign) string {
	if strings.TrimSpace(c.Name) == "" {
		return "Scaling report"
	}
	return c.Name
}

func subtitle(c reportdata.Campaign) []string {
	var out []string
	for _, s := range []string{c.Model, c.Engine, gpuSummary(c.GPUs), c.Interconnect} {
		if strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return out
}

// gpuSummary groups equal GPU names, in order: "8 × NVIDIA H100 80GB HBM3".
func gpuSummary(gpus []string) string {
	var names []string
	count := map[string]int{}
	for _, g := range gpus {
		if count[g] == 0 {
			names = append(names, g)
		}
		count[g]++
	}
	parts := make([]string, 0, len(names))
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%d × %s", count[n], n))
	}
	return strings.Join(parts, ", ")
}

func stats(d reportdata.Data) []reportdata.NameValue {
	c := d.Campaign
	done := strconv.Itoa(c.Done)
	if c.Planned > 0 {
		done = fmt.Sprintf("%d / %d", c.Done, c.Planned)
	}
	out := []reportdata.NameValue{
		{Name: "experiments done", Value: done},
		{Name: "failed", Value: strconv.Itoa(c.Failed)},
		{Name: "scaling series", Value: strconv.Itoa(len(d.Series))},
	}
	if n := unreadable(d.Experiments); n > 0 {
		out = append(out[:2], append([]reportdata.NameValue{{Name: "without measurements", Value: strconv.Itoa(n)}}, out[2:]...)...)
	}
	if n := charts.MaxGPUsOf(d.Series); len(d.Series) > 0 {
		out = append(out, reportdata.NameValue{Name: "GPUs at most", Value: strconv.Itoa(n)})
	}
	if dur := c.End.Sub(c.Start); !c.Start.IsZero() && !c.End.IsZero() && dur > 0 {
		out = append(out, reportdata.NameValue{Name: "campaign time", Value: format.Duration(dur)})
	}
	return out
}

// unreadable counts the experiments that are neither done nor failed (files missing or
// unreadable, never finished).
func unreadable(exps []reportdata.Experiment) int {
	n := 0
	for _, e := range exps {
		if unsuccessful(e) && e.Status != reportdata.StatusFailed {
			n++
		}
	}
	return n
}

func facts(c reportdata.Campaign) []reportdata.NameValue {
	out := []reportdata.NameValue{
		{Name: "Campaign", Value: c.Name}, {Name: "Model", Value: c.Model}, {Name: "Engine", Value: c.Engine},
		{Name: "GPUs", Value: gpuSummary(c.GPUs)}, {Name: "Interconnect", Value: c.Interconnect},
		{Name: "Host", Value: c.Host},
	}
	for _, v := range c.Versions {
		out = append(out, reportdata.NameValue{Name: "Version of " + v.Name, Value: v.Value})
	}
	out = append(out,
		reportdata.NameValue{Name: "Matrix file", Value: c.MatrixFile},
		reportdata.NameValue{Name: "Started", Value: format.Time(c.Start)}, reportdata.NameValue{Name: "Ended", Value: format.Time(c.End)},
		reportdata.NameValue{Name: "Experiments", Value: fmt.Sprintf("%d done, %d failed%s", c.Done, c.Failed, planned(c.Planned))},
	)
	kept := out[:0]
	for _, f := range out {
		if strings.TrimSpace(f.Value) != "" {
			kept = append(kept, f)
		}
	}
	return kept
}

func planned(n int) string {
	if n <= 0 {
		return ""
	}
	return fmt.Sprintf(", of %d planned", n)
}

// unsuccessful tells whether an experiment gave no measurements for a reason worth listing:
// it failed, or its files could not be read (status "error"), or it never finished.
func unsuccessful(e reportdata.Experiment) bool {
	return e.Status != reportdata.StatusDone && e.Status != ""
}

func failedNote(exps []reportdata.Experiment) string {
	failed, other := 0, 0
	for _, e := range exps {
		switch {
		case e.Status == reportdata.StatusFailed:
			failed++
		case unsuccessful(e):
			other++
		}
	}
	var what string
	switch {
	case failed+other == 0:
		return ""
	case other == 0 && failed == 1:
		return "1 experiment failed; it is left out of the series and listed under Failed experiments."
	case other == 0:
		what = fmt.Sprintf("%d experiments failed", failed)
	case failed == 0:
		what = fmt.Sprintf("%d experiments gave no measurements (files missing or unreadable)", other)
	default:
		what = fmt.Sprintf("%d experiments failed and %d gave no measurements (files missing or unreadable)", failed, other)
	}
	return what + "; they are left out of the series and listed under Failed experiments."
}

func newVerdictView(e reportdata.Experiment) verdictView {
	v := verdictView{Verdict: e.Diagnosis, Class: "none"}
	if e.Diagnosis != nil {
		v.Class = verdictClass(e.Diagnosis.Code)
	}
	if s := e.Summary; s != nil {
		v.Headline = fmt.Sprintf("%s tokens/s (%s per GPU) · %s req/s · TTFT p50 %s ms · TPOT p50 %s ms",
			format.Num(s.OutputThroughput), format.Num(s.OutputThroughputPerGPU), format.Num(s.RequestThroughput),
			format.Num(s.TTFT.P50), format.Num(s.TPOT.P50))
	}
	return v
}

// timelineInfo is the verdict panel of every timeline group, in the groups' order.
func timelineInfo(exps []reportdata.Experiment, groups []charts.Group) []verdictView {
	byID := charts.ExperimentsByID(exps)
	out := make([]verdictView, 0, len(groups))
	for _, g := range groups {
		out = append(out, newVerdictView(*byID[g.Key]))
	}
	return out
}

func diagnosisRows(exps []reportdata.Experiment, groups []charts.Group) []diagRow {
	index := map[string]int{}
	for i, g := range groups {
		index[g.Key] = i
	}
	var rows []diagRow
	for _, e := range exps {
		if e.Summary == nil || e.Status == reportdata.StatusFailed {
			continue
		}
		i, ok := index[e.ID]
		if !ok {
			i = -1
		}
		s := e.Summary
		rows = append(rows, diagRow{
			verdictView: newVerdictView(e), Index: i, ID: e.ID, Label: charts.ExperimentLabel(e),
			Throughput: format.Num(s.OutputThroughput), PerGPU: format.Num(s.OutputThroughputPerGPU),
			TTFT: format.Num(s.TTFT.P50), TPOT: format.Num(s.TPOT.P50),
		})
	}
	return rows
}

func measurementRows(exps []reportdata.Experiment) []measureRow {
	rows := make([]measureRow, 0, len(exps))
	for _, e := range exps {
		rows = append(rows, measureRow{ID: e.ID, Status: e.Status, Cells: measurementCells(e.Summary)})
	}
	return rows
}

func measurementCells(s *reportdata.Summary) []string {
	if s == nil {
		cells := make([]string, 23)
		for i := range cells {
			cells[i] = "–"
		}
		return cells
	}
	sat := "no"
	if s.Saturated {
		sat = "yes"
	}
	cells := []string{format.Num(s.RequestThroughput), format.Num(s.OutputThroughput), format.Num(s.OutputThroughputPerGPU), format.Num(s.TokensPerUser), sat}
	for _, l := range []reportdata.Latency{s.TTFT, s.TPOT, s.ITL, s.E2E} {
		cells = append(cells, format.Num(l.Mean), format.Num(l.P50), format.Num(l.P90), format.Num(l.P99))
	}
	return append(cells, format.Opt(s.Goodput), fmt.Sprintf("%d / %d", s.Completed, s.Errors))
}

func failedRows(exps []reportdata.Experiment) []failedRow {
	var rows []failedRow
	for _, e := range exps {
		if !unsuccessful(e) {
			continue
		}
		reason := e.Reason
		if strings.TrimSpace(reason) == "" {
			reason = "no reason recorded"
		}
		rows = append(rows, failedRow{ID: e.ID, Label: charts.ExperimentLabel(e), Status: e.Status, Reason: reason})
	}
	return rows
}
