package server

import (
	"strings"

	"github.com/llmscale/llmscale/internal/spec"
)

// TraceEndpoints are where a receiver listens for OTLP spans.
type TraceEndpoints struct {
	GRPC string // http://127.0.0.1:PORT
	HTTP string // http://127.0.0.1:PORT/v1/traces
}

// WithTraces makes a server export its per-request spans to the endpoints, in the engine's
// own words. vLLM (and the simulator, which takes vLLM's flags) get --otlp-traces-endpoint
// with gRPC, vLLM's default exporter, named in OTEL_EXPORTER_OTLP_TRACES_PROTOCOL; SGLang gets
// --enable-trace and --otlp-traces-endpoint host:port (gRPC), as SGLang's "Production Request
// Tracing" guide has them (releases before it spelt the flag --oltp-…). It reports false for
// an engine with no such setting (llama.cpp, a command template, an external server).
func WithTraces(c Command, engine string, ep TraceEndpoints) (Command, bool) {
	switch engine {
	case spec.EngineVLLM, spec.EngineSim:
		c.Argv = append(c.Argv, "--otlp-traces-endpoint", ep.GRPC)
		c.Env = append(c.Env, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=grpc", "OTEL_EXPORTER_OTLP_TRACES_INSECURE=true")
	case spec.EngineSGLang:
		c.Argv = append(c.Argv, "--enable-trace", "--otlp-traces-endpoint", strings.TrimPrefix(ep.GRPC, "http://"))
	default:
		return c, false
	}
	return c, true
}
