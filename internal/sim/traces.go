package sim

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"net/http"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// OTLP protocols of the span exporter, as OTEL_EXPORTER_OTLP_TRACES_PROTOCOL names them; vLLM
// takes grpc (its default) and http/protobuf.
const (
	TracesGRPC     = "grpc"
	TracesProtobuf = "http/protobuf"
	TracesJSON     = "http/json"
)

// spanBatchEvery is how often finished requests' spans are exported (the OpenTelemetry SDK's
// batch processor waits 5 s; the simulator exports sooner so short runs see their spans).
const spanBatchEvery = 500 * time.Millisecond

// spanExporter sends one span per finished request, with vLLM's name and attributes
// (vllm/tracing.py SpanAttributes), to an OTLP endpoint in batches.
type spanExporter struct {
	s        *Server
	endpoint string
	protocol string
	client   *http.Client
	conn     *grpc.ClientConn

	mu      sync.Mutex
	pending ptrace.Traces
	n       int
	stop    chan struct{}
	done    chan struct{}
}

func newSpanExporter(s *Server, endpoint, protocol string) (*spanExporter, error) {
	x := &spanExporter{s: s, endpoint: endpoint, protocol: protocol, pending: ptrace.NewTraces()}
	switch protocol {
	case TracesGRPC:
		conn, err := grpc.NewClient(grpcTarget(endpoint), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return nil, fmt.Errorf("otlp traces endpoint %q: %w", endpoint, err)
		}
		x.conn = conn
	case TracesProtobuf, TracesJSON:
		x.client = &http.Client{Timeout: 10 * time.Second}
	default:
		return nil, fmt.Errorf("unsupported OTLP protocol %q (OTEL_EXPORTER_OTLP_TRACES_PROTOCOL): use grpc, http/protobuf or http/json", protocol)
	}
	return x, nil
}

// grpcTarget is a gRPC dial target from an OTLP endpoint URL (http://host:port).
func grpcTarget(endpoint string) string {
	for _, p := range []string{"http://", "https://", "grpc://"} {
		endpoint = strings.TrimPrefix(endpoint, p)
	}
	return strings.TrimRight(endpoint, "/")
}

// run exports every spanBatchEvery until stop is closed, then once more.
func (x *spanExporter) run() {
	defer close(x.done)
	for sleep(x.s.clock, spanBatchEvery, x.stop) {
		x.flush()
	}
	x.flush()
}

// start begins exporting; the returned func stops it after a last export.
func (x *spanExporter) start() func() {
	if x == nil {
		return func() {}
	}
	x.stop, x.done = make(chan struct{}), make(chan struct{})
	go x.run()
	return func() {
		close(x.stop)
		<-x.done
		if x.conn != nil {
			x.conn.Close()
		}
	}
}

// add records the span of request r, which finished at simulated time at.
func (x *spanExporter) add(r *Request, at time.Duration) {
	if x == nil {
		return
	}
	st := r.Tag.(*stream)
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.n == 0 {
		rs := x.pending.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", "llmscale-sim")
		rs.ScopeSpans().AppendEmpty().Scope().SetName("vllm.entrypoints.openai.api_server")
	}
	x.n++
	sp := x.pending.ResourceSpans().At(0).ScopeSpans().At(0).Spans().AppendEmpty()
	x.s.fillSpan(sp, r, st, at)
}

// fillSpan writes request r's phases as vLLM's do_tracing does: seconds from its timestamps.
func (s *Server) fillSpan(sp ptrace.Span, r *Request, st *stream, at time.Duration) {
	sp.SetName("llm_request")
	sp.SetKind(ptrace.SpanKindServer)
	sp.SetTraceID(pcommon.TraceID(ids16(st.id)))
	span := ids16(st.id + "/span")
	sp.SetSpanID(pcommon.SpanID([8]byte(span[:8])))
	sp.SetStartTimestamp(pcommon.NewTimestampFromTime(s.toReal(r.arrival)))
	sp.SetEndTimestamp(pcommon.NewTimestampFromTime(s.toReal(at)))
	a := sp.Attributes()
	a.PutStr("gen_ai.request.id", spanRequestID(st))
	a.PutInt("gen_ai.usage.prompt_tokens", int64(r.Prompt))
	a.PutInt("gen_ai.usage.completion_tokens", int64(r.generated))
	a.PutInt("gen_ai.request.max_tokens", int64(r.MaxTokens))
	a.PutDouble("gen_ai.latency.time_in_queue", s.realSeconds(r.scheduled-r.queued))
	a.PutDouble("gen_ai.latency.time_to_first_token", s.realSeconds(r.firstOut-r.arrival))
	a.PutDouble("gen_ai.latency.e2e", s.realSeconds(at-r.arrival))
	a.PutDouble("gen_ai.latency.time_in_model_prefill", s.realSeconds(r.firstTok-r.scheduled))
	a.PutDouble("gen_ai.latency.time_in_model_decode", s.realSeconds(r.lastTok-r.firstTok))
	a.PutDouble("gen_ai.latency.time_in_model_inference", s.realSeconds(r.lastTok-r.scheduled))
}

// spanRequestID is the id vLLM puts on a request's span: the response id for chat, and for
// completions the id of the prompt's choice ("cmpl-<id>-0").
func spanRequestID(st *stream) string {
	if st.kind == apiChat {
		return st.id
	}
	return st.id + "-0"
}

// ids16 derives 16 stable bytes from s, for trace and span ids.
func ids16(s string) [16]byte {
	var out [16]byte
	h := fnv.New128a()
	h.Write([]byte(s))
	copy(out[:], h.Sum(nil))
	if out == [16]byte{} {
		binary.BigEndian.PutUint64(out[:], 1)
	}
	return out
}

// flush exports the pending spans; a failed export is logged and its spans dropped, as the
// OpenTelemetry SDK does.
func (x *spanExporter) flush() {
	x.mu.Lock()
	td, n := x.pending, x.n
	x.pending, x.n = ptrace.NewTraces(), 0
	x.mu.Unlock()
	if n == 0 {
		return
	}
	if err := x.export(td); err != nil {
		x.s.log.Warn("span export failed", "spans", n, "endpoint", x.endpoint, "err", err)
	}
}

func (x *spanExporter) export(td ptrace.Traces) error {
	req := ptraceotlp.NewExportRequestFromTraces(td)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if x.conn != nil {
		_, err := ptraceotlp.NewGRPCClient(x.conn).Export(ctx, req)
		return err
	}
	ct, body, err := "application/x-protobuf", []byte(nil), error(nil)
	if x.protocol == TracesJSON {
		ct = "application/json"
		body, err = req.MarshalJSON()
	} else {
		body, err = req.MarshalProto()
	}
	if err != nil {
		return err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, x.endpoint, bytes.NewReader(body))
	if err != nil {
		return err
	}
	hr.Header.Set("Content-Type", ct)
	resp, err := x.client.Do(hr)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}

// traces sets up the span exporter when the configuration asks for one.
func (s *Server) traces() error {
	if s.eff.TracesEndpoint == "" {
		return nil
	}
	protocol := s.eff.TracesProtocol
	if protocol == "" {
		protocol = TracesGRPC
	}
	x, err := newSpanExporter(s, s.eff.TracesEndpoint, protocol)
	if err != nil {
		return err
	}
	s.spans = x
	return nil
}
