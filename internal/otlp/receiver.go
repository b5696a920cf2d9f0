package otlp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"

	"github.com/llmscale/llmscale/internal/results"
)

// DefaultMaxBody is the largest export request accepted (after gzip): OTLP exporters send
// batches of at most 512 spans (OTEL_BSP_MAX_EXPORT_BATCH_SIZE), a few hundred kilobytes.
const DefaultMaxBody = 16 << 20

// Options configure a receiver.
type Options struct {
	MaxBody  int64  // bytes; 0: DefaultMaxBody
	HTTPAddr string // where Start listens for OTLP/HTTP; "": a free loopback port
	GRPCAddr string // where Start listens for OTLP/gRPC; "": a free loopback port
}

// Stats count what a receiver was sent. Rejected requests got a 400 (or gRPC InvalidArgument)
// and added no span.
type Stats struct {
	Exports  int64 // export requests accepted
	Rejected int64 // malformed, oversized or of an unknown content type
	Spans    int64 // spans that named a request, kept
	Other    int64 // spans without gen_ai.request.id (other instrumentation), dropped
}

// Receiver is an OTLP trace receiver on loopback: HTTP and gRPC on two ports.
type Receiver struct {
	maxBody int64

	mu    sync.Mutex
	spans []results.ServerSpan

	exports, rejected, kept, other atomic.Int64

	httpLn, grpcLn net.Listener
	httpSrv        *http.Server
	grpcSrv        *grpc.Server
	done           sync.WaitGroup
}

// New makes a receiver that listens nowhere yet; Handler and Export serve it.
func New(opts Options) *Receiver {
	r := &Receiver{maxBody: opts.MaxBody}
	if r.maxBody <= 0 {
		r.maxBody = DefaultMaxBody
	}
	return r
}

// Start makes a receiver listening on two ports, one for OTLP/HTTP and one for OTLP/gRPC
// (free loopback ports unless the options name them).
func Start(opts Options) (*Receiver, error) {
	r := New(opts)
	var err error
	if r.httpLn, err = net.Listen("tcp", orLoopback(opts.HTTPAddr)); err != nil {
		return nil, fmt.Errorf("otlp receiver: listen for http: %w", err)
	}
	if r.grpcLn, err = net.Listen("tcp", orLoopback(opts.GRPCAddr)); err != nil {
		r.httpLn.Close()
		return nil, fmt.Errorf("otlp receiver: listen for grpc: %w", err)
	}
	r.httpSrv = &http.Server{Handler: r.Handler()}
	r.grpcSrv = r.GRPCServer()
	r.done.Go(func() { _ = r.httpSrv.Serve(r.httpLn) })
	r.done.Go(func() { _ = r.grpcSrv.Serve(r.grpcLn) })
	return r, nil
}

// HTTPEndpoint is the URL of OTLP/HTTP traces: what an exporter with http/protobuf is given.
func (r *Receiver) HTTPEndpoint() string { return "http://" + r.httpLn.Addr().String() + "/v1/traces" }

// GRPCEndpoint is the URL of OTLP/gRPC (plain text): what an exporter with grpc is given.
func (r *Receiver) GRPCEndpoint() string { return "http://" + r.grpcLn.Addr().String() }

// Close stops both servers; spans already received stay readable.
func (r *Receiver) Close() error {
	var err error
	if r.httpSrv != nil {
		err = r.httpSrv.Close()
	}
	if r.grpcSrv != nil {
		r.grpcSrv.Stop()
	}
	r.done.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// Stats returns the counters so far.
func (r *Receiver) Stats() Stats {
	return Stats{Exports: r.exports.Load(), Rejected: r.rejected.Load(), Spans: r.kept.Load(), Other: r.other.Load()}
}

// Take returns the spans received since the last Take and forgets them.
func (r *Receiver) Take() []results.ServerSpan {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.spans
	r.spans = nil
	return out
}

// Pending calls f with the spans received and not yet taken, under the receiver's lock.
func (r *Receiver) Pending(f func([]results.ServerSpan)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(r.spans)
}

// Export keeps the spans of one decoded export request.
func (r *Receiver) Export(_ context.Context, req ptraceotlp.ExportRequest) {
	rows, other := Spans(req.Traces())
	r.exports.Add(1)
	r.kept.Add(int64(len(rows)))
	r.other.Add(int64(other))
	if len(rows) == 0 {
		return
	}
	r.mu.Lock()
	r.spans = append(r.spans, rows...)
	r.mu.Unlock()
}

func (r *Receiver) reject() { r.rejected.Add(1) }

func orLoopback(addr string) string {
	if addr == "" {
		return "127.0.0.1:0"
	}
	return addr
}
