package cli

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader in different goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startSim runs `llmscale sim args…` in-process and returns its base URL.
func startSim(t *testing.T, args ...string) (url string, stderr *syncBuffer, stop func() int) {
	t.Helper()
	pr, pw := io.Pipe()
	stderr = &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	codes := make(chan int, 1)
	env := Env{Args: append([]string{"sim"}, args...), Getenv: func(string) string { return "" }, Dir: t.TempDir(),
		Stdin: strings.NewReader(""), Stdout: pw, Stderr: stderr}
	go func() {
		codes <- Main(ctx, env)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("no listening line (%v); exit %d; stderr:\n%s", err, <-codes, stderr.String())
	}
	go io.Copy(io.Discard, pr)
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "llmscale sim listening on ")
	if !ok || !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("first stdout line %q", line)
	}
	stopped := false
	code := 0
	stop = func() int {
		if !stopped {
			stopped = true
			cancel()
			select {
			case code = <-codes:
			case <-time.After(5 * time.Second):
				t.Fatal("llmscale sim did not stop within 5s of cancellation")
			}
		}
		return code
	}
	t.Cleanup(func() { stop() })
	return url, stderr, stop
}

func getBody(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestSimServesAndStops(t *testing.T) {
	t.Parallel()
	url, stderr, stop := startSim(t, "meta-llama/Meta-Llama-3-8B-Instruct", "--port", "0", "-tp", "2",
		"--disable-log-requests", "--swap-space", "4", "--max_num_seqs", "64", "--enable-prefix-caching", "--speedup", "50")
	if code, _ := getBody(t, url+"/health"); code != 200 {
		t.Errorf("/health %d", code)
	}
	_, metrics := getBody(t, url+"/metrics")
	for _, want := range []string{`tensor_parallel_size="2"`, `max_num_seqs="64"`, `vllm:num_requests_running{`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	resp, err := http.Post(url+"/v1/completions", "application/json",
		strings.NewReader(`{"prompt":"hi","max_tokens":5,"ignore_eos":true}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"completion_tokens":5`) {
		t.Errorf("completion %d %s", resp.StatusCode, b)
	}
	start := time.Now()
	if code := stop(); code != ExitOK {
		t.Errorf("exit code %d after cancellation, want 0; stderr:\n%s", code, stderr)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("stopping took %v, want under a second", d)
	}
	for _, want := range []string{"ignoring --disable-log-requests", "ignoring --swap-space", "ignoring --enable-prefix-caching"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

func TestSimBadFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--max-num-seqs", "many"}, "invalid argument"},
		{[]string{"--gpu", "tpu-v5"}, "unknown GPU profile"},
		{[]string{"--model-profile", "llama-3-70b"}, "not enough GPU memory"},
		{[]string{"--pipeline-parallel-size", "2"}, "tensor and data parallelism only"},
		{[]string{"a", "b"}, "unexpected arguments"},
		{[]string{"m", "--model", "n"}, "the model is given twice"},
		{[]string{"--fault-error-rate", "2"}, "probability"},
		{[]string{"--max-num-seqs", "512", "--max-num-batched-tokens", "256"}, "smaller than max-num-seqs"},
		{[]string{"--interconnect", "infiniband"}, "nvlink, xgmi or pcie"},
		{[]string{"-tp", "3"}, "Total number of attention heads (32) must be divisible by tensor parallel size (3)."},
		{[]string{"--tensor-parallel-size", "6"}, "must be divisible by tensor parallel size (6)"},
		{[]string{"-pp", "3"}, "Total number of hidden layers (32) must be divisible by pipeline parallel size (3)."},
		{[]string{"--log-level", "loud"}, "--log-level"},
		{[]string{"--error-format", "json"}, "vllm or legacy"},
		{[]string{"-x"}, "unknown shorthand"},
		{[]string{"-tp", "0"}, "--tensor-parallel-size 0: must be above 0"},
		{[]string{"--data-parallel-size", "0"}, "--data-parallel-size 0: must be above 0"},
		{[]string{"--speedup", "0"}, "--speedup 0: must be above 0"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			var out, errb bytes.Buffer
			code := Main(context.Background(), Env{Args: append([]string{"sim", "--port", "0"}, tt.args...),
				Getenv: func(string) string { return "" }, Dir: t.TempDir(), Stdout: &out, Stderr: &errb})
			if code != ExitUsage || !strings.Contains(errb.String(), tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errb.String(), ExitUsage, tt.want)
			}
			if out.Len() != 0 {
				t.Errorf("stdout %q, want nothing", out.String())
			}
		})
	}
}

func TestSimHelp(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	code := Main(context.Background(), Env{Args: []string{"sim", "--help"}, Getenv: func(string) string { return "" },
		Stdout: &out, Stderr: io.Discard})
	if code != ExitOK || !strings.Contains(out.String(), "--tensor-parallel-size") || !strings.Contains(out.String(), "--fault-drop-rate") {
		t.Errorf("exit %d, help:\n%s", code, out.String())
	}
}

func TestNormalizeSimArgs(t *testing.T) {
	t.Parallel()
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	var f simFlags
	f.register(fs)
	tests := []struct {
		in, kept, ignored string
	}{
		{"-tp 2 -dp=4", "--tensor-parallel-size 2 --data-parallel-size=4", ""},
		{"--swap-space 4 --port 0", "--port 0", "--swap-space"},
		{"--enforce-eager my/model", "my/model", "--enforce-eager"},
		{"--kv-cache-dtype=fp8 --seed 1", "--seed 1", "--kv-cache-dtype"},
		{"--max_num_seqs 8", "--max_num_seqs 8", ""},
		{"--disable-log-requests --max-model-len 1024", "--max-model-len 1024", "--disable-log-requests"},
	}
	for _, tt := range tests {
		kept, ignored := normalizeSimArgs(fs, strings.Fields(tt.in))
		if strings.Join(kept, " ") != tt.kept || strings.Join(ignored, " ") != tt.ignored {
			t.Errorf("normalizeSimArgs(%q) = %q, %q; want %q, %q", tt.in, kept, ignored, tt.kept, tt.ignored)
		}
	}
}
