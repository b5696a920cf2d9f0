package charts

import (
	"fmt"
	"math"

	"github.com/llmscale/llmscale/internal/reportdata"
)

const noSpans = "No server spans for this experiment (telemetry.traces off, or the server sent none)."

// phaseColors: one colour per phase, the same in every phase chart.
var phaseColors = map[string]string{
	"queue": palette[1], "prefill": palette[0], "decode": palette[2], "rest of the server": palette[7], "client path": palette[3],
}

// withPhaseCharts adds, when some experiment has server spans, three charts to every
// experiment's group: TTFT and E2E split by phase over the requests, and a waterfall of the
// slowest requests (a note where the experiment has no spans, so the slots line up).
func withPhaseCharts(groups []Group, exps []reportdata.Experiment) []Group {
	byID := map[string]*reportdata.Phases{}
	any := false
	for _, e := range exps {
		if e.Phases != nil {
			byID[e.ID], any = e.Phases, true
		}
	}
	if !any {
		return groups
	}
	for i := range groups {
		prefix := fmt.Sprintf("ph-%d", i)
		p := byID[groups[i].Key]
		if p == nil {
			groups[i].Charts = append(groups[i].Charts, noteCharts(prefix, noSpans, phaseTitle, "ttft", "e2e", "slowest")...)
			continue
		}
		groups[i].Charts = append(groups[i].Charts, stackChart(prefix+"-ttft", phaseTitle("ttft"), "client TTFT", p.TTFT),
			stackChart(prefix+"-e2e", phaseTitle("e2e"), "client E2E", p.E2E), waterfallChart(prefix+"-slowest", p.Slowest))
	}
	return groups
}

func phaseTitle(kind string) string {
	return map[string]string{
		"ttft":    "TTFT by phase (server spans)",
		"e2e":     "E2E latency by phase (server spans)",
		"slowest": "Slowest requests: queue | prefill | decode | client path",
	}[kind]
}

// stackChart draws a phase stack as cumulative lines: each line is the sum of its phase and
// those below it, so the gap between two lines is one phase and the top line the client's
// latency.
func stackChart(id, title, total string, st reportdata.PhaseStack) Chart {
	c := Chart{ID: id, Title: title, X: Axis{Name: "Requests sorted by " + total + " (percentile)", Min: ptr(0), Max: ptr(100)},
		Y: Axis{Name: "Latency, cumulative by phase (ms)", Min: ptr(0)}}
	sum := make([]float64, len(st.Percentile))
	for i, l := range st.Layers {
		name := l.Name
		if i > 0 {
			name = "+ " + name
		}
		if i == len(st.Layers)-1 {
			name += " (= " + total + ")"
		}
		ln := Line{Name: name, Kind: KindCurve, Color: phaseColors[l.Name]}
		for j, x := range st.Percentile {
			sum[j] += l.MS[j]
			ln.Data = append(ln.Data, Pt{x, sum[j]})
		}
		c.Series = append(c.Series, ln)
	}
	c.Caption = "Each gap between two lines is one phase; the top line is the latency the client measured."
	return c
}

// waterfallChart draws the slowest requests as one row each: its phases one after the other
// from the moment it was sent, each a segment of its phase's colour.
func waterfallChart(id string, ws []reportdata.Waterfall) Chart {
	c := Chart{ID: id, Title: phaseTitle("slowest"), X: Axis{Name: "Time from the request (ms)", Min: ptr(0)},
		Y: Axis{Name: "Slowest requests (rank)", Integer: true, Min: ptr(0), Max: ptr(float64(len(ws) + 1))}}
	names := []string{"queue", "prefill", "decode", "client path"}
	for k, name := range names {
		ln := Line{Name: name, Kind: KindLine, Color: phaseColors[name]}
		for rank, w := range ws {
			parts := []float64{w.QueueMS, w.PrefillMS, w.DecodeMS, w.ClientMS}
			from := 0.0
			for _, p := range parts[:k] {
				from += p
			}
			y := float64(rank + 1)
			ln.Data = append(ln.Data, Pt{from, y}, Pt{from + parts[k], y}, Pt{from + parts[k], math.NaN()})
			ln.Names = append(ln.Names, w.ResponseID, w.ResponseID, "")
		}
		c.Series = append(c.Series, ln)
	}
	c.Caption = "Rank 1 is the slowest request by client E2E; the client path is the rest of it: API server, network, streaming."
	return c
}
