// Package otlp receives the OpenTelemetry spans an inference server exports for every request
// (vLLM: `--otlp-traces-endpoint`), over OTLP/HTTP (protobuf or JSON, POST /v1/traces) and
// OTLP/gRPC (opentelemetry.proto.collector.trace.v1.TraceService/Export), on loopback. It keeps
// each request's server phases (queue, prefill, decode, server TTFT and E2E) as
// results.ServerSpan rows and joins them to the load generator's requests by request id.
// Decoding is the OpenTelemetry Collector's pdata; nothing here parses protobuf by hand.
package otlp
