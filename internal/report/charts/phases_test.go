package charts

import (
	"testing"

	"github.com/llmscale/llmscale/internal/reportdata"
)

// TestPhaseCharts: an experiment with phases gets its three charts, one without gets the
// note, and a campaign without spans anywhere gets no phase chart.
func TestPhaseCharts(t *testing.T) {
	t.Parallel()
	stack := reportdata.PhaseStack{Percentile: []float64{50}, Layers: []reportdata.PhaseLayer{{Name: "queue", MS: reportdata.Values{1}}}}
	p := &reportdata.Phases{Requests: 1, TTFT: stack, E2E: stack, Slowest: []reportdata.Waterfall{{ResponseID: "r", QueueMS: 1}}}
	groups := withPhaseCharts([]Group{{Key: "a"}, {Key: "b"}}, []reportdata.Experiment{{ID: "a", Phases: p}, {ID: "b"}})
	if len(groups[0].Charts) != 3 || groups[0].Charts[0].Note != "" || groups[1].Charts[2].Note != noSpans {
		t.Errorf("charts: %+v", groups)
	}
	if got := withPhaseCharts([]Group{{Key: "b"}}, []reportdata.Experiment{{ID: "b"}}); len(got[0].Charts) != 0 {
		t.Errorf("without spans anywhere no phase chart is added: %+v", got)
	}
}
