package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmscale/llmscale/internal/loadgen"
	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/stats"
)

// streamHandler is a small OpenAI-compatible server: /v1/models, and streams of n tokens.
type streamHandler struct {
	tokens int
	status int
	mu     sync.Mutex
	models []string
	seen   []map[string]any
}

func (h *streamHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/v1/models" {
		fmt.Fprint(w, `{"object":"list","data":[{"id":"served-model","object":"model"}]}`)
		return
	}
	var body map[string]any
	_ = json.NewDecoder(r.Body).Decode(&body)
	h.mu.Lock()
	h.seen = append(h.seen, body)
	h.mu.Unlock()
	if h.status != 0 {
		w.WriteHeader(h.status)
		fmt.Fprint(w, `{"error":{"message":"overloaded"}}`)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	fl := w.(http.Flusher)
	for i := range h.tokens {
		time.Sleep(time.Millisecond)
		fmt.Fprintf(w, "data: {\"id\":\"cmpl-1\",\"choices\":[{\"index\":0,\"text\":\" w%d\",\"finish_reason\":null}]}\n\n", i)
		fl.Flush()
	}
	fmt.Fprintf(w, "data: {\"id\":\"cmpl-1\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":%d}}\n\ndata: [DONE]\n\n", h.tokens)
}

func runCLI(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "config"), 0o755)
	os.WriteFile(filepath.Join(dir, "config", "prompts_short.txt"), []byte("Hello there.\nWhat is Go?\n"), 0o644)
	e := Env{Args: args, Getenv: func(k string) string { return env[k] }, Dir: dir, Stdout: &stdout, Stderr: &stderr,
		Now: func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }}
	code := Main(context.Background(), e)
	return code, stdout.String(), stderr.String() + "\nDIR " + dir
}

func dirOf(stderr string) string {
	_, d, _ := strings.Cut(stderr, "\nDIR ")
	return d
}

func TestLoadCommand(t *testing.T) {
	t.Parallel()
	h := &streamHandler{tokens: 4}
	srv := httptest.NewServer(h)
	defer srv.Close()
	code, out, errOut := runCLI(t, map[string]string{"VLLM_HOST": srv.URL, "OPENAI_API_KEY": "k", "USERS": "3"},
		"load", "--run-time", "300ms", "--warmup", "100ms", "--cooldown", "0s", "--max-tokens", "4", "--quiet")
	if code != ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{"served-model", "3 users", "Successful requests:", "TTFT", "E2EL"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	folder := filepath.Join(dirOf(errOut), "results", "load-20260102-030405")
	rows, err := results.ReadRequests(filepath.Join(folder, "requests.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	users := map[int32]bool{}
	for _, r := range rows {
		users[r.User] = true
		if !r.OK() || r.OutputTokens != 4 || r.ExperimentID != "load-20260102-030405" {
			t.Fatalf("record %+v", r)
		}
	}
	if len(users) != 3 {
		t.Errorf("%d users in the records, want 3 (USERS)", len(users))
	}
	for _, f := range []string{"summary.json", "load.json"} {
		if _, err := os.Stat(filepath.Join(folder, f)); err != nil {
			t.Error(err)
		}
	}
	if h.seen[0]["model"] != "served-model" || h.seen[0]["prompt"] == nil {
		t.Errorf("request body %v", h.seen[0])
	}
}

func TestLoadFlagsBeatEnvironment(t *testing.T) {
	t.Parallel()
	h := &streamHandler{tokens: 2}
	srv := httptest.NewServer(h)
	defer srv.Close()
	out := filepath.Join(t.TempDir(), "run")
	code, stdout, errOut := runCLI(t, map[string]string{"VLLM_HOST": "http://127.0.0.1:1", "VLLM_MODEL": "env-model", "USERS": "50"},
		"load", "--host", srv.URL, "--model", "flag-model", "--api", "chat", "--concurrency", "2", "--run-time", "200ms",
		"--warmup", "0s", "--cooldown", "0s", "--out", out, "--quiet")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, errOut)
	}
	if !strings.Contains(stdout, "2 requests in flight") || h.seen[0]["model"] != "flag-model" || h.seen[0]["messages"] == nil {
		t.Fatalf("flags did not win: %s\nbody %v", stdout, h.seen[0])
	}
}

func TestLoadAllFailed(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(&streamHandler{status: 503})
	defer srv.Close()
	code, _, errOut := runCLI(t, nil, "load", "--host", srv.URL, "--model", "m", "--concurrency", "1",
		"--run-time", "100ms", "--warmup", "0s", "--cooldown", "0s")
	if code != ExitFailed || !strings.Contains(errOut, "every request failed") || !strings.Contains(errOut, "HTTP 503: overloaded") ||
		!strings.Contains(errOut, "hint: is the server up") {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	if !strings.Contains(errOut, "llmscale load: ") { // plain progress lines when stderr is not a terminal
		t.Errorf("no progress line on stderr:\n%s", errOut)
	}
}

func TestLoadUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		env  map[string]string
		args []string
		want string
	}{
		{nil, []string{"--users", "2", "--rate", "5"}, "give one load mode"},
		{map[string]string{"USERS": "10,50"}, nil, `USERS="10,50"`},
		{nil, []string{"--prompts", "nosuchset"}, "prompt file not found"},
		{nil, []string{"--rate", "5", "--arrival", "zipf"}, "arrival"},
		{nil, []string{"--start-at", "tomorrow"}, "--start-at"},
		// A 0 is refused where it cannot mean anything, never replaced by a default.
		{nil, []string{"--users", "0"}, "--users 0: must be above 0"},
		{nil, []string{"--max-tokens", "0"}, "--max-tokens 0: must be above 0"},
		{nil, []string{"--run-time", "0s"}, "--run-time 0s: must be above 0"},
		{nil, []string{"--timeout", "0s"}, "--timeout 0s: must be above 0"},
		{map[string]string{"USERS": "0"}, nil, "USERS 0: must be above 0"},
		{map[string]string{"RUN_TIME": "0s"}, nil, "RUN_TIME 0s: must be above 0"},
		{map[string]string{"USERS": "4", "LLMSCALE_RATE": "2"}, nil, "USERS and LLMSCALE_RATE (environment or .env) both set the load mode"},
	}
	for _, tt := range tests {
		args := append([]string{"load", "--model", "m", "--host", "http://127.0.0.1:1", "--quiet"}, tt.args...)
		code, _, errOut := runCLI(t, tt.env, args...)
		if code != ExitUsage || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v %v: exit %d, stderr %s; want %d mentioning %q", tt.env, tt.args, code, errOut, ExitUsage, tt.want)
		}
	}
}

// TestLoadInterrupted: Ctrl-C (the context cancelled) ends the run early with exit code 130, a
// plain message rather than Go's "context canceled", and the request file written.
func TestLoadInterrupted(t *testing.T) {
	t.Parallel()
	h := &streamHandler{tokens: 4}
	srv := httptest.NewServer(h)
	defer srv.Close()
	var stdout, stderr bytes.Buffer
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	code := Main(ctx, Env{Args: []string{"load", "--host", srv.URL, "--model", "m", "--users", "2", "--prompts", "random:8:4",
		"--run-time", "1m", "--warmup", "0s", "--cooldown", "0s", "--grace", "5s", "--quiet", "--out", "out"},
		Getenv: func(string) string { return "" }, Dir: dir, Stdout: &stdout, Stderr: &stderr})
	if code != ExitInterrupted {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, ExitInterrupted, stderr.String())
	}
	if msg := stderr.String(); !strings.Contains(msg, "llmscale: interrupted") || strings.Contains(msg, "context canceled") {
		t.Errorf("stderr:\n%s", msg)
	}
	if _, err := results.ReadParquet[results.Request](filepath.Join(dir, "out", "requests.parquet")); err != nil {
		t.Errorf("requests.parquet: %v", err)
	}
}

// TestClientFailedExit: a run where most requests failed on the client's own limits exits
// non-zero with the client's limits as the hint; a few such failures do not.
func TestClientFailedExit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		sent, client int
		fails        bool
	}{
		{"most on the client", 100, 80, true},
		{"half is not most", 100, 50, false},
		{"a few", 100, 3, false},
		{"none", 100, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sum := loadgen.Summary{Summary: stats.Summary{Sent: tt.sent}, ClientFailures: tt.client, OpenFilesLimit: 1024,
				Limits: []string{"the client ran out of file descriptors"}}
			if got := sum.MostFailedOnClient(); got != tt.fails {
				t.Fatalf("MostFailedOnClient = %v, want %v", got, tt.fails)
			}
			if !tt.fails {
				return
			}
			code, hint := exitCode(clientFailed(sum))
			if code != ExitFailed || !strings.Contains(hint, "file descriptors") {
				t.Errorf("exit %d hint %q; want %d and the client's limit", code, hint, ExitFailed)
			}
		})
	}
}

// TestLoadRefusesToOverwrite: a finished result in --out is never replaced without --force,
// and nothing of it is lost by the refusal.
func TestLoadRefusesToOverwrite(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(&streamHandler{tokens: 2})
	defer srv.Close()
	dir := t.TempDir()
	out := filepath.Join(dir, "run")
	args := []string{"load", "--host", srv.URL, "--model", "m", "--concurrency", "1", "--run-time", "100ms",
		"--warmup", "0s", "--cooldown", "0s", "--quiet", "--out", out}
	if code, _, errOut := runCLI(t, nil, args...); code != ExitOK {
		t.Fatalf("first run: exit %d\n%s", code, errOut)
	}
	before, err := os.ReadFile(filepath.Join(out, "requests.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCLI(t, nil, args...)
	if code != ExitUsage || !strings.Contains(errOut, "already holds a result (requests.parquet)") || !strings.Contains(errOut, "--force") {
		t.Fatalf("second run: exit %d, want %d and a refusal naming --force\n%s", code, ExitUsage, errOut)
	}
	after, err := os.ReadFile(filepath.Join(out, "requests.parquet"))
	if err != nil || !bytes.Equal(before, after) {
		t.Fatalf("the first result changed (%v)", err)
	}
	if code, _, errOut := runCLI(t, nil, append(args, "--force")...); code != ExitOK {
		t.Fatalf("--force: exit %d\n%s", code, errOut)
	}
}
