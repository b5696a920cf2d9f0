package report

import (
	"errors"
	"io/fs"
	"path/filepath"
	"slices"

	"github.com/llmscale/llmscale/internal/results"
)

// Phases is an experiment's per-request split of latency into the server's phases and the
// client path, from server_spans.parquet (telemetry.traces): the completed requests of the
// measured window that have a span.
type Phases struct {
	Requests int        `json:"requests"`
	TTFT     PhaseStack `json:"ttft"` // queue, prefill, rest of the server, client path
	E2E      PhaseStack `json:"e2e"`  // queue, prefill, decode, rest of the server, client path
	// Slowest are the requests with the longest client E2E, slowest first.
	Slowest []Waterfall `json:"slowest"`
}

// PhaseStack is a latency's distribution split into layers: the requests sorted by the
// latency the client saw, averaged in at most MaxPhasePoints bins; each layer's value in ms.
// Layers add up to the client's latency.
type PhaseStack struct {
	Percentile []float64    `json:"percentile"` // the bin's middle, 0–100
	Layers     []PhaseLayer `json:"layers"`
}

// PhaseLayer is one phase of a stack.
type PhaseLayer struct {
	Name string `json:"name"`
	MS   Values `json:"ms"`
}

// Waterfall is one request's phases in order (ms): queue | prefill | decode | client path,
// where the client path is the rest of the client's E2E (API server, network, streaming).
type Waterfall struct {
	ResponseID string  `json:"response_id"`
	QueueMS    float64 `json:"queue_ms"`
	PrefillMS  float64 `json:"prefill_ms"`
	DecodeMS   float64 `json:"decode_ms"`
	ClientMS   float64 `json:"client_ms"`
}

// MaxPhasePoints bounds the points of a phase stack; MaxWaterfalls the slowest requests shown.
const (
	MaxPhasePoints = 50
	MaxWaterfalls  = 10
)

// phaseRequest is one joined request's values in ms.
type phaseRequest struct {
	id                                             string
	queue, prefill, decode, ttft, e2e, cTTFT, cE2E float64
}

// readPhases reads server_spans.parquet; nil without the file or without a usable span.
func readPhases(dir string) (*Phases, error) {
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
	return &Phases{Requests: len(reqs), TTFT: ttftStack(reqs), E2E: e2eStack(reqs), Slowest: slowest(reqs)}, nil
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
func stack(reqs []phaseRequest, key func(phaseRequest) float64, names []string, layers func(phaseRequest) []float64) PhaseStack {
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
	bins := min(len(sorted), MaxPhasePoints)
	st := PhaseStack{Layers: make([]PhaseLayer, len(names))}
	for i, n := range names {
		st.Layers[i] = PhaseLayer{Name: n, MS: make(Values, bins)}
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

func ttftStack(reqs []phaseRequest) PhaseStack {
	return stack(reqs, func(q phaseRequest) float64 { return q.cTTFT },
		[]string{"queue", "prefill", "rest of the server", "client path"},
		func(q phaseRequest) []float64 {
			rest := q.ttft - q.queue - q.prefill
			return []float64{q.queue, q.prefill, rest, q.cTTFT - q.ttft}
		})
}

func e2eStack(reqs []phaseRequest) PhaseStack {
	return stack(reqs, func(q phaseRequest) float64 { return q.cE2E },
		[]string{"queue", "prefill", "decode", "rest of the server", "client path"},
		func(q phaseRequest) []float64 {
			rest := q.e2e - q.queue - q.prefill - q.decode
			return []float64{q.queue, q.prefill, q.decode, rest, q.cE2E - q.e2e}
		})
}

func slowest(reqs []phaseRequest) []Waterfall {
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
	var out []Waterfall
	for _, q := range sorted[:min(len(sorted), MaxWaterfalls)] {
		out = append(out, Waterfall{ResponseID: q.id, QueueMS: q.queue, PrefillMS: q.prefill, DecodeMS: q.decode,
			ClientMS: q.cE2E - q.queue - q.prefill - q.decode})
	}
	return out
}
