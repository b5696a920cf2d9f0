package campaign

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/llmscale/llmscale/internal/otlp"
	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/server"
	"github.com/llmscale/llmscale/internal/spec"
)

// TraceWait is how long after the load ends the campaign waits for the spans of its completed
// requests: the OpenTelemetry SDK's batch processor exports every 5 s (OTEL_BSP_SCHEDULE_DELAY).
const TraceWait = 10 * time.Second

// startTraces starts the set's span receiver when telemetry.traces asks for one. An engine
// that cannot be told where to send spans gets none and a note instead.
func (s *serverSet) startTraces(on bool) error {
	if !on {
		return nil
	}
	switch s.cfg.Engine {
	case spec.EngineVLLM, spec.EngineSim, spec.EngineSGLang:
	default:
		s.tracesNote = fmt.Sprintf("traces: engine %s has no setting llmscale can pass for an OTLP endpoint; server_spans.parquet not written", s.cfg.Engine)
		return nil
	}
	rcv, err := otlp.Start(otlp.Options{})
	if err != nil {
		return err
	}
	s.traces = rcv
	return nil
}

// withTraces adds the receiver's endpoint to a command.
func (s *serverSet) withTraces(cmd server.Command) server.Command {
	if s.traces == nil {
		return cmd
	}
	cmd, _ = server.WithTraces(cmd, s.cfg.Engine, server.TraceEndpoints{GRPC: s.traces.GRPCEndpoint(), HTTP: s.traces.HTTPEndpoint()})
	return cmd
}

func (s *serverSet) stopTraces() {
	if s.traces != nil {
		s.traces.Close()
	}
}

// recordSpans waits for the spans of the experiment's completed requests (TraceWait at most),
// joins them to requests.parquet and writes server_spans.parquet. A server that sent none
// leaves a one-line note; the experiment goes on either way.
func (r *Runner) recordSpans(ctx context.Context, set *serverSet, expID, dir string, note func(string)) {
	if set.tracesNote != "" {
		note(set.tracesNote)
		return
	}
	if set.traces == nil {
		return
	}
	reqs, err := results.ReadRequestsDir(dir)
	if err != nil {
		note("traces: " + err.Error())
		return
	}
	rows, st := otlp.Collect(ctx, set.traces, expID, reqs, TraceWait)
	if st.Spans > 0 {
		if err := results.WriteServerSpans(filepath.Join(dir, results.ServerSpansFile), rows); err != nil {
			note("traces: " + err.Error())
			return
		}
	}
	note(otlp.Note(st, set.traces.Stats()))
}
