package cli

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/sim"
)

// TestRunCampaignWithTraces: with telemetry.traces the simulator exports a span per request to
// the campaign's receiver, and every experiment gets server_spans.parquet with at least 99% of
// its completed requests joined.
func TestRunCampaignWithTraces(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	model := uniqueModel(t)
	campaignMatrix(t, dir, model, "telemetry: {traces: true}\n")
	r := runInProcess(t, dir, "run", "-m", "m.yaml", "--results", "res")
	if r.code != ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	noneLeft(t, model)
	root := filepath.Join(dir, "res")
	st := statuses(t, root)
	if len(st) != 4 {
		t.Fatalf("got %d experiments, want 4", len(st))
	}
	for id := range st {
		checkSpansJoined(t, results.Dir(root, id))
	}
}

func checkSpansJoined(t *testing.T, dir string) {
	t.Helper()
	checkSpansJoinedIn(t, dir)
	rec, err := results.ReadExperiment(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(rec.Telemetry, "\n"), "completed requests joined") {
		t.Errorf("%s: experiment.json has no traces note: %q", dir, rec.Telemetry)
	}
}

// checkSpansJoinedIn checks server_spans.parquet against the requests of dir: at least 99% of
// the completed requests joined, each with a client path that is not negative.
func checkSpansJoinedIn(t *testing.T, dir string) {
	t.Helper()
	spans, err := results.ReadServerSpans(filepath.Join(dir, results.ServerSpansFile))
	if err != nil {
		t.Fatalf("%s: %v", dir, err)
	}
	reqs, err := results.ReadRequestsDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	joined := map[string]bool{}
	for _, s := range spans {
		if s.Joined {
			joined[s.ResponseID] = true
			if s.ClientTTFTNs != nil && (s.TTFTOverheadNs == nil || *s.TTFTOverheadNs < -1e6) {
				t.Errorf("%s: request %s: client TTFT %d, server %v, overhead %v", dir, s.ResponseID, *s.ClientTTFTNs, s.ServerTTFT, s.TTFTOverheadNs)
			}
		}
	}
	completed, hit := 0, 0
	for _, q := range reqs {
		if q.OK() {
			completed++
			if joined[q.ResponseID] {
				hit++
			}
		}
	}
	if completed == 0 || float64(hit) < 0.99*float64(completed) {
		t.Errorf("%s: %d of %d completed requests joined", dir, hit, completed)
	}
}

// TestLoadTraces: llmscale load --traces receives the spans of a server told to send them to
// its gRPC address and writes server_spans.parquet beside requests.parquet.
func TestLoadTraces(t *testing.T) {
	t.Parallel()
	grpcAddr := freeAddr(t) // the server must know the address before load starts
	srv, err := sim.New(sim.Config{Speedup: 10, MaxNumSeqs: 8, Model: "m", TracesEndpoint: "http://" + grpcAddr}, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	defer func() { cancel(); <-done }()
	code, out, errOut := runCLI(t, nil, "load", "--host", "http://"+ln.Addr().String(), "--model", "m", "--users", "4",
		"--run-time", "1s", "--warmup", "0s", "--cooldown", "0s", "--max-tokens", "8", "--quiet",
		"--traces", "--traces-grpc", grpcAddr, "--traces-http", "127.0.0.1:0")
	if code != ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "start the server with --otlp-traces-endpoint http://"+grpcAddr) {
		t.Errorf("stderr does not say where to send spans:\n%s", errOut)
	}
	checkSpansJoinedIn(t, filepath.Join(dirOf(errOut), "results", "load-20260102-030405"))
}

func TestLoadTracesOneWorker(t *testing.T) {
	t.Parallel()
	code, _, errOut := runCLI(t, nil, "load", "--host", "http://127.0.0.1:1", "--workers", "2", "--traces",
		"--traces-grpc", "127.0.0.1:0", "--traces-http", "127.0.0.1:0")
	if code != ExitUsage || !strings.Contains(errOut, "--traces takes one load worker") {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
