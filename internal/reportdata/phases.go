package reportdata

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
