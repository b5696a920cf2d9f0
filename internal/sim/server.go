// Package sim is llmscale's built-in vLLM-like server: an OpenAI-compatible HTTP API (with
// vLLM's chunk shapes, errors and Prometheus metric names) whose timing comes from a
// performance model of vLLM's V1 engine on GPUs: continuous batching, chunked prefill under a
// token budget, a roofline step time with tensor-parallel all-reduces, KV-cache capacity and
// preemption, DP ranks behind serial API-server front ends. docs/simulator.md describes the
// model and its limits.
//
// Cluster is the model alone (pure, simulated time); Simulate runs a workload through it;
// Server puts it behind HTTP in real time.
package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// ErrCrashed is returned by Serve when the crash fault fired.
var ErrCrashed = errors.New("simulated crash")

// Options are a server's injected dependencies.
type Options struct {
	Clock  Clock        // nil: the system clock
	Logger *slog.Logger // nil: discard
}

// Server is a simulated vLLM server. Serve runs it on a listener; Handler and Run let a test
// put it behind its own HTTP server.
type Server struct {
	eff   Effective
	clock Clock
	log   *slog.Logger
	met   *metrics
	rec   *recorder
	spans *spanExporter // nil without TracesEndpoint
	core  *Cluster      // nil in fixed-cadence mode

	started chan struct{} // closed when Run starts
	stopped chan struct{} // closed when Run returns
	running atomic.Bool
	start   time.Time // real time at simulated time 0; set before started is closed

	submits chan *stream
	aborts  chan *stream

	accepted  atomic.Uint64
	crashed   chan struct{}
	crashOnce sync.Once
}

// New builds a server from cfg; it starts nothing.
func New(cfg Config, opts Options) (*Server, error) {
	eff, err := Resolve(cfg)
	if err != nil {
		return nil, err
	}
	s := &Server{eff: eff, clock: opts.Clock, log: opts.Logger, met: newMetrics(eff),
		started: make(chan struct{}), stopped: make(chan struct{}), submits: make(chan *stream),
		aborts: make(chan *stream), crashed: make(chan struct{})}
	if s.clock == nil {
		s.clock = SystemClock{}
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if eff.RecordChunks != "" {
		s.rec = &recorder{path: eff.RecordChunks}
	}
	if err := s.traces(); err != nil {
		return nil, err
	}
	if eff.Cadence == nil {
		s.core = NewCluster(eff.ClusterConfig(), observer{s})
	}
	return s, nil
}

// Effective is the resolved configuration the server runs with.
func (s *Server) Effective() Effective { return s.eff }

// Handler serves the HTTP API; requests get 503 until Run (or Serve) has started.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/completions", s.generate(apiCompletions))
	mux.HandleFunc("POST /v1/chat/completions", s.generate(apiChat))
	mux.HandleFunc("GET /v1/models", s.models)
	mux.HandleFunc("GET /health", s.health)
	mux.HandleFunc("GET /version", s.version)
	mux.HandleFunc("POST /reset_prefix_cache", s.resetPrefixCache)
	mux.Handle("GET /metrics", s.met.handler())
	mux.HandleFunc("GET "+GPUMetricsPath, s.gpuMetrics)
	return mux
}

// Run runs the model in real time until ctx is done. Serve calls it; call it yourself only
// when you serve Handler with your own HTTP server.
func (s *Server) Run(ctx context.Context) error {
	if err := s.begin(); err != nil {
		return err
	}
	return s.loop(ctx)
}

// begin sets simulated time zero and opens the API.
func (s *Server) begin() error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("sim: server already running")
	}
	s.start = s.clock.Now()
	close(s.started)
	return nil
}

// loop runs the model until ctx is done.
func (s *Server) loop(ctx context.Context) error {
	defer close(s.stopped)
	defer s.spans.start()()
	s.log.Info("simulator running", "model", s.eff.Model, "gpu", s.eff.GPU, "model_profile", s.eff.ModelProfile,
		"tp", s.eff.TP, "dp", s.eff.DP, "max_num_seqs", s.eff.MaxNumSeqs,
		"max_num_batched_tokens", s.eff.MaxNumBatchedTokens, "num_gpu_blocks", s.eff.NumGPUBlocks,
		"interconnect", s.eff.Interconnect, "speedup", s.eff.Speedup)
	if s.core == nil {
		<-ctx.Done()
		return nil
	}
	s.drive(ctx)
	return nil
}

// Serve serves the API on ln until ctx is done, then stops within about a second: in-flight
// streams are cut, the chunk record is written. It returns ErrCrashed when the crash fault
// fired (without writing the record, as a crashed process would not).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	reqCtx, cancelReqs := context.WithCancel(context.Background())
	defer cancelReqs()
	hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 30 * time.Second,
		BaseContext: func(net.Listener) context.Context { return reqCtx },
		ErrorLog:    log.New(slogWriter{s.log}, "", 0)}
	if err := s.begin(); err != nil {
		return err
	}
	runDone := make(chan error, 1)
	go func() { runDone <- s.loop(ctx) }()
	serveDone := make(chan error, 1)
	go func() { serveDone <- hs.Serve(ln) }()
	stopCrashTimer := s.armCrashTimer()
	defer stopCrashTimer()

	select {
	case <-s.crashed:
		hs.Close() // connections first, so no stream ends cleanly
		cancelReqs()
		cancel()
		<-runDone
		<-serveDone
		return ErrCrashed
	case err := <-serveDone:
		cancel()
		<-runDone
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	cancelReqs()
	sctx, stop := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer stop()
	if err := hs.Shutdown(sctx); err != nil {
		hs.Close()
	}
	<-runDone
	<-serveDone
	if err := s.rec.write(); err != nil {
		return fmt.Errorf("record chunks: %w", err)
	}
	return nil
}

// armCrashTimer makes the server crash CrashAfter after it started.
func (s *Server) armCrashTimer() (stop func()) {
	d := s.eff.Faults.CrashAfter
	if d <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		if sleep(s.clock, d, done) {
			s.log.Warn("simulated crash", "after", d)
			s.crash()
		}
	}()
	return func() { close(done) }
}

func (s *Server) crash() { s.crashOnce.Do(func() { close(s.crashed) }) }

// Crashed is closed when the crash fault fires.
func (s *Server) Crashed() <-chan struct{} { return s.crashed }

// simNow is the simulated time now.
func (s *Server) simNow() time.Duration { return s.toSim(s.clock.Now()) }

func (s *Server) toSim(t time.Time) time.Duration {
	return time.Duration(float64(t.Sub(s.start)) * s.eff.Speedup)
}

// toReal is the real time of simulated time d.
func (s *Server) toReal(d time.Duration) time.Time {
	return s.start.Add(time.Duration(float64(d) / s.eff.Speedup))
}

// realSeconds converts a simulated duration to the real seconds clients see.
func (s *Server) realSeconds(d time.Duration) float64 { return d.Seconds() / s.eff.Speedup }

// slogWriter sends net/http's own log lines to the server's logger.
type slogWriter struct{ log *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	w.log.Debug("http", "msg", string(p))
	return len(p), nil
}
