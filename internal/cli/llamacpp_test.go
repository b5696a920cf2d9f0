package cli

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/server"
)

// llamaServer finds a real llama.cpp llama-server: $LLMSCALE_LLAMA_SERVER, else PATH. Without
// one the test is skipped, in CI too: building llama.cpp takes ten minutes, and the recorded
// streams and /metrics pages in testdata/ cover the parsers without it
// (scripts/llamacpp/ builds one; docs/engines.md).
func llamaServer(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("LLMSCALE_LLAMA_SERVER"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("LLMSCALE_LLAMA_SERVER=%s: %v", p, err)
		}
		return p
	}
	p, err := exec.LookPath("llama-server")
	if err != nil {
		t.Skip("llama-server is not on PATH and LLMSCALE_LLAMA_SERVER is not set")
	}
	return p
}

// tinyGGUF writes a tiny random-weight model with `llmscale model random`.
func tinyGGUF(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "tiny.gguf")
	if r := runInProcess(t, dir, "model", "random", "--size", "tiny", "--out", path, "--seed", "3"); r.code != ExitOK {
		t.Fatalf("model random: exit %d: %s", r.code, r.stderr)
	}
	return path
}

// startLlama starts llama-server on a free port with the model, and stops it at the end.
func startLlama(t *testing.T, bin, model, dir string, slots int) string {
	t.Helper()
	port, err := server.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	cmd := server.Command{Port: port, Argv: []string{bin, "--model", model, "--host", "127.0.0.1", "--port", strconv.Itoa(port),
		"--metrics", "--parallel", strconv.Itoa(slots), "--ctx-size", strconv.Itoa(512 * slots), "--threads", "1"}}
	p, err := server.Start(cmd, server.Options{LogPath: filepath.Join(dir, "llama-server.log"), Environ: os.Environ(), StopGrace: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	if err := p.WaitReady(t.Context(), server.Readiness{BaseURL: base, Timeout: time.Minute, Client: http.DefaultClient, API: "completions"}); err != nil {
		t.Fatalf("llama-server not ready: %v\n%s", err, server.LogTail(filepath.Join(dir, "llama-server.log"), 20))
	}
	return base
}

// counter reads one llamacpp: counter from the server's /metrics page.
func counter(t *testing.T, base, name string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == name {
			v, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			return v
		}
	}
	t.Fatalf("/metrics has no %s", name)
	return 0
}

// TestLlamaServerTokens: against a real llama-server serving a model written by llmscale, every
// request of random:IN prompts (ids inside the model's vocabulary) succeeds and runs to
// max_tokens, and the output tokens of the client's records equal the growth of the server's
// llamacpp:tokens_predicted_total, to the token.
func TestLlamaServerTokens(t *testing.T) {
	t.Parallel()
	bin := llamaServer(t)
	dir := t.TempDir()
	base := startLlama(t, bin, tinyGGUF(t, dir), dir, 2)
	before := counter(t, base, "llamacpp:tokens_predicted_total")
	r := runInProcess(t, dir, "load", "--host", base, "--users", "3", "--prompts", "random:24", "--max-tokens", "12",
		"--vocab-size", "1024", "--warmup", "0s", "--run-time", "2s", "--cooldown", "0s", "--grace", "30s",
		"--out", filepath.Join(dir, "load"), "--quiet")
	if r.code != ExitOK {
		t.Fatalf("load: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	after := counter(t, base, "llamacpp:tokens_predicted_total")
	reqs, err := results.ReadParquet[results.Request](filepath.Join(dir, "load", "requests.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	var out int64
	for _, q := range reqs {
		if !q.OK() || q.OutputTokens != 12 || q.PromptTokens != 24 {
			t.Fatalf("request %d: ok %v, %d prompt and %d output tokens (%s), want 24 and 12", q.Seq, q.OK(), q.PromptTokens, q.OutputTokens, q.Error)
		}
		out += int64(q.OutputTokens)
	}
	if len(reqs) < 3 || float64(out) != after-before {
		t.Errorf("%d requests, %d output tokens; the server counted %v", len(reqs), out, after-before)
	}
}

// TestLlamaCppCampaign: a `run` campaign against real llama-server processes: slots
// (--parallel) as the batch factor, two replicas as DP. The servers describe themselves
// (/props, /v1/models), prompts fit the vocabulary they report, both replicas' windows are
// closed together, slots are erased between experiments, and /metrics is recorded.
func TestLlamaCppCampaign(t *testing.T) {
	t.Parallel()
	bin := llamaServer(t)
	dir := t.TempDir()
	model := tinyGGUF(t, dir)
	write(t, filepath.Join(dir, "m.yaml"), fmt.Sprintf(`campaign: lc
engine: llamacpp
model: %s
factors:
  dp: [1, 2]
  batch_size: [1, 2]
  users: [3]
  prompts: ["random:24"]
  max_tokens: [12]
rules:
  exclude:
    - {dp: 2, batch_size: 1}
load: {run_time: 2s, warmup: 500ms, cooldown: 0s, grace: 30s}
server:
  extra_args: ["--ctx-size", "1024", "--threads", "1"]
  startup_timeout: 1m
  stop_grace: 5s
telemetry: {interval: 250ms, gpu: none}
`, model))
	environ := map[string]string{}
	path := "PATH=" + filepath.Dir(bin) + string(os.PathListSeparator) + os.Getenv("PATH")
	var stdout, stderr strings.Builder
	exe, _ := os.Executable()
	code := Main(t.Context(), Env{Args: []string{"run", "-m", "m.yaml", "--results", "res", "--no-analysis"},
		Getenv: func(k string) string { return environ[k] }, Dir: dir, Executable: exe,
		Environ: append(childEnviron(), path), Hostname: "test", Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr})
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	root := filepath.Join(dir, "res")
	for _, id := range []string{"lc_G1_TP1_DP1_U3_rand24_O12_B1", "lc_G1_TP1_DP1_U3_rand24_O12_B2", "lc_G2_TP1_DP2_U3_rand24_O12_B2"} {
		checkLlamaExperiment(t, results.Dir(root, id))
	}
}

func checkLlamaExperiment(t *testing.T, dir string) {
	t.Helper()
	rec, err := results.ReadExperiment(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := rec.Server
	if rec.Status != results.StatusDone || !strings.HasPrefix(s.Version, "llama.cpp ") ||
		s.Effective["total_slots"] != strconv.Itoa(s.BatchSize) || s.Effective["n_vocab"] != "1024" {
		t.Errorf("%s: status %s (%s), version %q, effective %v", rec.ID, rec.Status, rec.Reason, s.Version, s.Effective)
	}
	if rec.Load.VocabSize != 1024 || !strings.Contains(rec.Load.VocabSource, "server") {
		t.Errorf("%s: prompts drawn below %d (%s), want the server's 1024", rec.ID, rec.Load.VocabSize, rec.Load.VocabSource)
	}
	if rec.PromptCache != "fresh server start" && !strings.HasPrefix(rec.PromptCache, "slots erased") {
		t.Errorf("%s: prompt cache %q", rec.ID, rec.PromptCache)
	}
	files := []string{results.ServerMetricsFile}
	if s.DP == 2 {
		files = []string{"server_metrics-r0.parquet", "server_metrics-r1.parquet"}
		if rec.ReplicaSkew == nil {
			t.Errorf("%s: two replicas and no replica_skew", rec.ID)
		}
	}
	for _, f := range files {
		rows, err := results.ReadParquet[results.ServerMetric](filepath.Join(dir, f))
		n := 0
		for _, r := range rows {
			if strings.HasPrefix(r.OriginalName, "llamacpp:") {
				n++
			}
		}
		if err != nil || n == 0 {
			t.Errorf("%s: %s has %d llamacpp: rows (%v)", rec.ID, f, n, err)
		}
	}
	reqs, err := results.ReadParquet[results.Request](filepath.Join(dir, "requests.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range reqs {
		if !q.OK() {
			t.Fatalf("%s: request %d failed: %s: %s", rec.ID, q.Seq, q.ErrorKind, q.Error)
		}
	}
}
