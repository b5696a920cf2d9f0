package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/llmscale/llmscale/internal/campaign"
	"github.com/llmscale/llmscale/internal/otlp"
	"github.com/llmscale/llmscale/internal/results"
)

// traceFlags are load's --traces flags: a receiver for the spans of a server started with
// --otlp-traces-endpoint pointing at it. The defaults are OTLP's standard ports.
type traceFlags struct {
	on         bool
	grpc, http string
}

func (t *traceFlags) register(fs *pflag.FlagSet) {
	fs.BoolVar(&t.on, "traces", false, "receive the server's per-request OpenTelemetry spans (start vLLM with --otlp-traces-endpoint "+
		"pointing at --traces-grpc) and write server_spans.parquet joined to the requests")
	fs.StringVar(&t.grpc, "traces-grpc", "127.0.0.1:4317", "with --traces: address of the OTLP/gRPC receiver")
	fs.StringVar(&t.http, "traces-http", "127.0.0.1:4318", "with --traces: address of the OTLP/HTTP receiver (POST /v1/traces)")
}

func tracesWorkersError() error {
	return withHint(withCode(errors.New("--traces takes one load worker: --workers is above 1"), ExitUsage),
		"drop --workers, or run the campaign (telemetry.traces) which joins spans to every worker's requests")
}

// startLoadTraces starts the receiver when --traces is given; nil otherwise.
func startLoadTraces(env Env, t traceFlags, workers int) (*otlp.Receiver, error) {
	if !t.on {
		return nil, nil
	}
	if workers > 1 {
		return nil, tracesWorkersError()
	}
	rcv, err := otlp.Start(otlp.Options{GRPCAddr: t.grpc, HTTPAddr: t.http})
	if err != nil {
		return nil, withHint(withCode(err, ExitUsage), "another collector on the port? pick others with --traces-grpc and --traces-http")
	}
	fmt.Fprintf(env.Stderr, "llmscale: receiving spans on %s (grpc) and %s (http); start the server with --otlp-traces-endpoint %s\n",
		rcv.GRPCEndpoint(), rcv.HTTPEndpoint(), rcv.GRPCEndpoint())
	return rcv, nil
}

// writeLoadSpans waits for the spans of the completed requests, joins them and writes
// server_spans.parquet beside requests.parquet; what it got is one line on stderr.
func writeLoadSpans(ctx context.Context, env Env, rcv *otlp.Receiver, expID, out string) error {
	if rcv == nil {
		return nil
	}
	defer rcv.Close()
	reqs, err := results.ReadRequestsDir(out)
	if err != nil {
		return withCode(err, ExitFailed)
	}
	rows, st := otlp.Collect(ctx, rcv, expID, reqs, campaign.TraceWait)
	fmt.Fprintln(env.Stderr, "llmscale: "+otlp.Note(st, rcv.Stats()))
	if st.Spans == 0 {
		return nil
	}
	path := filepath.Join(out, results.ServerSpansFile)
	if err := results.WriteServerSpans(path, rows); err != nil {
		return withCode(err, ExitFailed)
	}
	fmt.Fprintf(env.Stderr, "llmscale: wrote %s\n", path)
	return nil
}
