package aggregate

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"

	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/stats"
)

// fillSpans summarises server_spans.parquet: percentiles of each server phase and of the
// client path over the completed requests of the measured window that have a span. Without
// the file (telemetry.traces off, or a server that sent none) the columns stay null.
func fillSpans(r *Row, dir string, _ results.Experiment) error {
	spans, err := results.ReadServerSpans(filepath.Join(dir, results.ServerSpansFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: %w", results.ServerSpansFile, err)
	}
	r.ServerSpans = int64(len(spans))
	var m spanSamples
	for _, s := range spans {
		if s.Joined && s.Phase == results.PhaseMeasure && s.ClientTTFTNs != nil {
			m.add(s)
		}
	}
	if r.Completed > 0 {
		r.SpansJoinedFraction = F(float64(m.n) / float64(r.Completed))
	}
	m.fill(r)
	return nil
}

// spanSamples are the per-request values of the joined spans, in milliseconds.
type spanSamples struct {
	n                                                           int
	queue, scheduler, prefill, decode, ttft, e2e, ttftOv, e2eOv []float64
	queueShare, ovShare                                         []float64
}

func (m *spanSamples) add(s results.ServerSpan) {
	m.n++
	addMs(&m.queue, s.QueueNs)
	addMs(&m.scheduler, s.SchedulerNs)
	addMs(&m.prefill, s.PrefillNs)
	addMs(&m.decode, s.DecodeNs)
	addMs(&m.ttft, s.ServerTTFT)
	addMs(&m.e2e, s.ServerE2E)
	addMs(&m.ttftOv, s.TTFTOverheadNs)
	addMs(&m.e2eOv, s.E2EOverheadNs)
	if s.QueueNs != nil && s.ServerTTFT != nil && *s.ServerTTFT > 0 {
		m.queueShare = append(m.queueShare, float64(*s.QueueNs)/float64(*s.ServerTTFT))
	}
	if s.TTFTOverheadNs != nil && *s.ClientTTFTNs > 0 {
		m.ovShare = append(m.ovShare, float64(*s.TTFTOverheadNs)/float64(*s.ClientTTFTNs))
	}
}

func addMs(dst *[]float64, ns *int64) {
	if ns != nil {
		*dst = append(*dst, float64(*ns)/1e6)
	}
}

func (m *spanSamples) fill(r *Row) {
	pct3(m.queue, &r.SpanQueueP50, &r.SpanQueueP90, &r.SpanQueueP99)
	pct3(m.scheduler, &r.SpanSchedulerP50, &r.SpanSchedulerP90, &r.SpanSchedulerP99)
	pct3(m.prefill, &r.SpanPrefillP50, &r.SpanPrefillP90, &r.SpanPrefillP99)
	pct3(m.decode, &r.SpanDecodeP50, &r.SpanDecodeP90, &r.SpanDecodeP99)
	pct3(m.ttft, &r.SpanTTFTP50, &r.SpanTTFTP90, &r.SpanTTFTP99)
	pct3(m.e2e, &r.SpanE2EP50, &r.SpanE2EP90, &r.SpanE2EP99)
	pct3(m.ttftOv, &r.TTFTOverheadP50, &r.TTFTOverheadP90, &r.TTFTOverheadP99)
	pct3(m.e2eOv, &r.E2EOverheadP50, &r.E2EOverheadP90, &r.E2EOverheadP99)
	var unused *float64
	pct3(m.queueShare, &r.SpanQueueShare, &unused, &unused)
	pct3(m.ovShare, &r.TTFTOverheadShare, &unused, &unused)
}

// pct3 sets p50, p90 and p99 of v (numpy's linear interpolation, as every latency column);
// nothing for no values.
func pct3(v []float64, p50, p90, p99 **float64) {
	if len(v) == 0 {
		return
	}
	slices.Sort(v)
	*p50, *p90, *p99 = F(stats.Percentile(v, 50)), F(stats.Percentile(v, 90)), F(stats.Percentile(v, 99))
}
