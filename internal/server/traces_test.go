package server

import (
	"slices"
	"testing"

	"github.com/llmscale/llmscale/internal/spec"
)

func TestWithTraces(t *testing.T) {
	t.Parallel()
	ep := TraceEndpoints{GRPC: "http://127.0.0.1:4317", HTTP: "http://127.0.0.1:4318/v1/traces"}
	cases := []struct {
		engine   string
		ok       bool
		argv     []string
		protocol bool
	}{
		{spec.EngineVLLM, true, []string{"--otlp-traces-endpoint", "http://127.0.0.1:4317"}, true},
		{spec.EngineSim, true, []string{"--otlp-traces-endpoint", "http://127.0.0.1:4317"}, true},
		{spec.EngineSGLang, true, []string{"--enable-trace", "--otlp-traces-endpoint", "127.0.0.1:4317"}, false},
		{spec.EngineLlamaCpp, false, nil, false},
		{spec.EngineCommand, false, nil, false},
	}
	for _, c := range cases {
		got, ok := WithTraces(Command{Argv: []string{"x"}}, c.engine, ep)
		if ok != c.ok || !slices.Equal(got.Argv[1:], c.argv) && len(c.argv) > 0 {
			t.Errorf("%s: argv %q ok %v, want %q %v", c.engine, got.Argv, ok, c.argv, c.ok)
		}
		if has := slices.Contains(got.Env, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=grpc"); has != c.protocol {
			t.Errorf("%s: env %q", c.engine, got.Env)
		}
	}
}
