package resultstree

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/llmscale/llmscale/internal/reportdata"
	"github.com/llmscale/llmscale/internal/results"
)

func nsOf(ms float64) *int64 { v := int64(ms * 1e6); return &v }

func TestPhasesFromSpans(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var rows []results.ServerSpan
	for i := range 120 {
		q := float64(i) // queue grows with the request: the slowest is the last
		rows = append(rows, results.ServerSpan{Joined: true, Phase: results.PhaseMeasure, ResponseID: "r" + string(rune('A'+i%26)),
			QueueNs: nsOf(q), PrefillNs: nsOf(10), DecodeNs: nsOf(100), ServerTTFT: nsOf(q + 12), ServerE2E: nsOf(q + 113),
			ClientTTFTNs: nsOf(q + 15), ClientE2ENs: nsOf(q + 120)})
	}
	rows = append(rows, results.ServerSpan{Joined: false, Phase: results.PhaseMeasure}) // not joined: left out
	if err := results.WriteServerSpans(filepath.Join(dir, results.ServerSpansFile), rows); err != nil {
		t.Fatal(err)
	}
	p, err := readPhases(dir)
	if err != nil || p == nil {
		t.Fatalf("readPhases: %v, %v", p, err)
	}
	if p.Requests != 120 || len(p.TTFT.Percentile) != reportdata.MaxPhasePoints || len(p.Slowest) != reportdata.MaxWaterfalls {
		t.Fatalf("%d requests, %d points, %d waterfalls", p.Requests, len(p.TTFT.Percentile), len(p.Slowest))
	}
	// Layers add up to the client's latency in every bin, and each is what the spans said.
	for b := range p.TTFT.Percentile {
		sum := 0.0
		for _, l := range p.TTFT.Layers {
			sum += l.MS[b]
		}
		queue := p.TTFT.Layers[0].MS[b]
		if math.Abs(sum-(queue+15)) > 1e-6 || math.Abs(p.TTFT.Layers[3].MS[b]-3) > 1e-6 || math.Abs(p.TTFT.Layers[2].MS[b]-2) > 1e-6 {
			t.Errorf("bin %d: layers %v do not add to the client TTFT", b, sum)
		}
	}
	w := p.Slowest[0]
	if w.QueueMS != 119 || w.ClientMS != 10 || w.DecodeMS != 100 {
		t.Errorf("slowest request %+v, want queue 119, decode 100, client path 10", w)
	}
	none, err := readPhases(t.TempDir())
	if none != nil || err != nil {
		t.Errorf("no file: %v, %v", none, err)
	}
}
