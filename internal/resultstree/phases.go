package resultstree

import (
	"errors"
	"io/fs"
	"path/filepath"
	"slices"

	"github.com/llmscale/llmscale/internal/reportdata"
	"github.com/llmscale/llmscale/internal/results"
)

// phaseRequest is one joined request's values in ms.
type phaseRequest struct {
	id                                             string
	queue, prefill, decode, ttft, e2e, cTTFT, cE2E float64
}

// readPhases reads server_spans.parquet; nil without the file or without a usable span.
func readPhases(dir string) (*reportdata.Phases, error) {
	spans, err := results.ReadServerSpans(filepath.Join(dir, results.ServerSpansFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var reqs []phaseRequest
	for _, s := range spans {
		if q, ok := phaseOf(s); ok {
			reqs = append(reqs, q)
		}
	}
	if len(reqs) == 0 {
		return nil, nil
	}
	return &reportdata.Phases{Requests: len(reqs), TTFT: ttftStack(reqs), E2E: e2eStack(reqs), Slowest: slowest(reqs)}, nil
}

func phaseOf(s results.ServerSpan) (phaseRequest, bool) {
	if !s.Joined || s.Phase != results.PhaseMeasure {
		return phaseRequest{}, false
	}
	for _, p := range []*int64{s.QueueNs, s.PrefillNs, s.DecodeNs, s.ServerTTFT, s.ServerE2E, s.ClientTTFTNs, s.ClientE2ENs} {
		if p == nil {
			return phaseRequest{}, false
		}
	}
	ms := func(p *int64) float64 { return float64(*p) / 1e6 }
	return phaseRequest{id: s.ResponseID, queue: ms(s.QueueNs), prefill: ms(s.PrefillNs), decode: ms(s.DecodeNs),
		ttft: ms(s.ServerTTFT), e2e: ms(s.ServerE2E), cTTFT: ms(s.ClientTTFTNs), cE2E: ms(s.ClientE2ENs)}, true
}

// stack bins the requests sorted by key and averages each layer per bin.
func stack(reqs []phaseRequest, key func(phaseRequest) float64, names []string, layers func(phaseRequest) []float64) reportdata.PhaseStack {
	sorted := slices.Clone(reqs)
	slices.SortStableFunc(sorted, func(a, b phaseRequest) int {
		switch ka, kb := key(a), key(b); {
		case ka < kb:
			return -1
		case ka > kb:
			return 1
		}
		return 0
	})
	bins := min(len(sorted), reportdata.MaxPhasePoints)
	st := reportdata.PhaseStack{Layers: make([]reportdata.PhaseLayer, len(names))}
	for i, n := range names {
		st.Layers[i] = reportdata.PhaseLayer{Name: n, MS: make(reportdata.Values, bins)}
	}
	for b := range bins {
		lo, hi := b*len(sorted)/bins, (b+1)*len(sorted)/bins
		st.Percentile = append(st.Percentile, 100*(float64(lo+hi)/2)/float64(len(sorted)))
		for _, q := range sorted[lo:hi] {
			for i, v := range layers(q) {
				st.Layers[i].MS[b] += v / float64(hi-lo)
			}
		}
	}
	return st
}

func ttftStack(reqs []phaseRequest) reportdata.PhaseStack {
	return stack(reqs, func(q phaseRequest) float64 { return q.cTTFT },
		[]string{"queue", "prefill", "rest of the server", "client path"},
		func(q phaseRequest) []float64 {
			rest := q.ttft - q.queue - q.prefill
			return []float64{q.queue, q.prefill, rest, q.cTTFT - q.ttft}
		})
}

func e2eStack(reqs []phaseRequest) reportdata.PhaseStack {
	return stack(reqs, func(q phaseRequest) float64 { return q.cE2E },
		[]string{"queue", "prefill", "decode", "rest of the server", "client path"},
		func(q phaseRequest) []float64 {
			rest := q.e2e - q.queue - q.prefill - q.decode
			return []float64{q.queue, q.prefill, q.decode, rest, q.cE2E - q.e2e}
		})
}

func slowest(reqs []phaseRequest) []reportdata.Waterfall {
	sorted := slices.Clone(reqs)
	slices.SortStableFunc(sorted, func(a, b phaseRequest) int {
		switch {
		case a.cE2E > b.cE2E:
			return -1
		case a.cE2E < b.cE2E:
			return 1
		}
		return 0
	})
	var out []reportdata.Waterfall
	for _, q := range sorted[:min(len(sorted), reportdata.MaxWaterfalls)] {
		out = append(out, reportdata.Waterfall{ResponseID: q.id, QueueMS: q.queue, PrefillMS: q.prefill, DecodeMS: q.decode,
			ClientMS: q.cE2E - q.queue - q.prefill - q.decode})
	}
	return out
}
