package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/results"
)

func readJSONFile(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return doc
}

// TestLoadVLLMCommandLine: a vllm bench serve command line runs against the simulator as it
// is, sends exactly --num-prompts requests and writes vLLM's result file, in --out and, with
// --save-result, under vLLM's name in --result-dir.
func TestLoadVLLMCommandLine(t *testing.T) {
	t.Parallel()
	url, _, _ := startSim(t, "--port", "0", "--fixed-ttft", "5ms", "--fixed-itl", "2ms")
	code, out, errOut := runCLI(t, nil, "load", "--base-url", url, "--prompts", "random:20:8", "--request-rate", "200",
		"--max-concurrency", "64", "--num-prompts", "30", "--percentile-metrics", "ttft,itl", "--goodput", "ttft:500", "tpot:50",
		"--save-result", "--result-dir", "vllm", "--out", "out", "--disable-tqdm")
	if code != ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	dir := dirOf(errOut)
	rows, err := results.ReadRequests(filepath.Join(dir, "out", "requests.parquet"))
	if err != nil || len(rows) != 30 {
		t.Fatalf("%d requests (%v), want --num-prompts 30", len(rows), err)
	}
	doc := readJSONFile(t, filepath.Join(dir, "out", "vllm_result.json"))
	for k, want := range map[string]any{"num_prompts": 30.0, "request_rate": 200.0, "max_concurrency": 64.0, "completed": 30.0,
		"backend": "openai", "model_id": "meta-llama/Meta-Llama-3-8B-Instruct"} {
		if doc[k] != want {
			t.Errorf("%s = %v, want %v", k, doc[k], want)
		}
	}
	if doc["request_goodput"] != doc["request_throughput"] || doc["request_goodput"] == nil {
		t.Errorf("goodput %v, throughput %v: every request met ttft:500 tpot:50", doc["request_goodput"], doc["request_throughput"])
	}
	for _, k := range []string{"p99_ttft_ms", "p99_itl_ms", "ttfts", "itls"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("%s missing", k)
		}
	}
	if _, ok := doc["p99_tpot_ms"]; ok {
		t.Error("p99_tpot_ms written, but --percentile-metrics was ttft,itl")
	}
	saved, _ := filepath.Glob(filepath.Join(dir, "vllm", "openai-200.0qps-concurrency64-Meta-Llama-3-8B-Instruct-*.json"))
	if len(saved) != 1 {
		t.Fatalf("--save-result wrote %v", saved)
	}
	if _, ok := readJSONFile(t, saved[0])["ttfts"]; ok {
		t.Error("--save-result without --save-detailed kept the per-request arrays")
	}
	if !strings.Contains(out, "Request goodput (req/s):") {
		t.Errorf("no goodput in the summary:\n%s", out)
	}
	checkWithPython(t, filepath.Join(dir, "out", "vllm_result.json"))
}

// checkWithPython reads the file as vLLM's own scripts do, with Debian's python3 (skipped
// without it, unless CI is set).
func checkWithPython(t *testing.T, path string) {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("python3 is needed in CI to check vllm_result.json as vLLM's scripts read it")
		}
		t.Log("no python3: vllm_result.json not checked with Python")
		return
	}
	script := filepath.Join(repoRoot(t), "internal", "cli", "testdata", "read_vllm_result.py")
	if b, err := exec.Command(py, script, path).CombinedOutput(); err != nil {
		t.Errorf("%s %s: %v\n%s", script, path, err, b)
	}
}

// TestLoadVLLMInfRate: vLLM's default rate, inf, sends every one of --num-prompts at once.
func TestLoadVLLMInfRate(t *testing.T) {
	t.Parallel()
	url, _, _ := startSim(t, "--port", "0", "--fixed-ttft", "5ms", "--fixed-itl", "2ms")
	code, out, errOut := runCLI(t, nil, "load", "--host", url, "--prompts", "random:20:4", "--num-prompts", "12",
		"--out", "out", "--quiet")
	if code != ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	doc := readJSONFile(t, filepath.Join(dirOf(errOut), "out", "vllm_result.json"))
	if doc["request_rate"] != "inf" || doc["max_concurrency"] != 12.0 || doc["completed"] != 12.0 || doc["request_goodput"] != nil {
		t.Errorf("request_rate %v, max_concurrency %v, completed %v, request_goodput %v; want inf, 12, 12, null",
			doc["request_rate"], doc["max_concurrency"], doc["completed"], doc["request_goodput"])
	}
}

// TestLoadVLLMFlagErrors: a setting given under both names, values vLLM refuses, and unknown
// flags near known ones are usage errors (exit 2) that say what to do; none reaches a server.
func TestLoadVLLMFlagErrors(t *testing.T) {
	t.Parallel()
	base := []string{"load", "--host", "http://127.0.0.1:1", "--model", "m", "--prompts", "random:4:4"}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--request-rate", "5", "--rate", "5"}, "--request-rate and --rate set the same thing"},
		{[]string{"--max-concurrency", "4", "--concurrency", "4"}, "--max-concurrency and --concurrency"},
		{[]string{"--request-rate", "5", "--max-concurrency", "2", "--max-inflight", "3"}, "--max-concurrency and --max-inflight"},
		{[]string{"--base-url", "http://x:1", "--host", "http://y:2"}, "--base-url and --host"},
		{[]string{"--request-rate", "inf"}, "--request-rate inf sends every request at once"},
		{[]string{"--request-rate", "0"}, `--request-rate "0": want a positive number`},
		{[]string{"--request-rate", "fast"}, `--request-rate "fast"`},
		{[]string{"--request-rate", "5", "--users", "3"}, "--users and --request-rate: give one load mode"},
		{[]string{"--num-prompts", "0"}, "--num-prompts 0: want a positive number"},
		{[]string{"--num-prompts", "5", "--warmup", "1s"}, "takes no --warmup"},
		{[]string{"--goodput", "ttft:0"}, "an objective of 0 ms or less"},
		{[]string{"--goodput", "ttft:5", "ttft:6"}, "ttft is given twice"},
		{[]string{"--goodput", "itl:5"}, `"itl" is not ttft, tpot or e2el`},
		{[]string{"--goodput", "ttft"}, "want KEY:MILLISECONDS"},
		{[]string{"--result-dir", "x"}, "--result-dir is for --save-result's file"},
		{[]string{"--percentile-metrics", "ttft,ttfx"}, `"ttfx" is not one of`},
		{[]string{"--metric-percentiles", "50,101"}, `"101" is not a percentile`},
		{[]string{"--burstiness", "0.5", "--arrival", "poisson"}, "--burstiness 0.5 shapes gamma arrivals, but --arrival is poisson"},
		{[]string{"--port", "70000"}, "--port 70000"},
		{[]string{"--port", "9000"}, "names port 1"},
		{[]string{"--request-rat", "5"}, "did you mean --request-rate?"},
		{[]string{"--num_prompts", "5"}, "did you mean --num-prompts?"},
		{[]string{"--max-concurency", "5"}, "did you mean --max-concurrency?"},
	} {
		code, _, errOut := runCLI(t, nil, append(base, c.args...)...)
		if code != ExitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, want %d with %q; stderr:\n%s", c.args, code, ExitUsage, c.want, errOut)
		}
	}
}

func TestJoinGoodput(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want []string }{
		{[]string{"load", "--goodput", "ttft:500", "tpot:50", "--quiet"}, []string{"load", "--goodput", "ttft:500,tpot:50", "--quiet"}},
		{[]string{"load", "--goodput=ttft:1", "e2el:9"}, []string{"load", "--goodput", "ttft:1,e2el:9"}},
		{[]string{"single", "--goodput", "ttft:1", "myexp"}, []string{"single", "--goodput", "ttft:1", "myexp"}},
		{[]string{"load", "--goodput"}, []string{"load", "--goodput"}},
		{[]string{"load", "--", "--goodput", "a:1", "b:2"}, []string{"load", "--", "--goodput", "a:1", "b:2"}},
	} {
		if got := joinGoodput(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("joinGoodput(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestVLLMFileName(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, c := range []struct {
		label, api string
		rate       float64
		conc       int
		want       string
	}{
		{"", "completions", 10, 64, "openai-10.0qps-concurrency64-m-20260102-030405.json"},
		{"", "chat", 2.5, 0, "openai-chat-2.5qps-m-20260102-030405.json"},
		{"mine", "completions", 0, 8, "mine-infqps-concurrency8-m-20260102-030405.json"},
	} {
		if got := vllmFileName(c.label, loadspec.API(c.api), c.rate, c.conc, "org/m", now); got != c.want {
			t.Errorf("vllmFileName(%q, %q, %v, %d) = %q, want %q", c.label, c.api, c.rate, c.conc, got, c.want)
		}
	}
}

func FuzzParseGoodput(f *testing.F) {
	for _, s := range []string{"ttft:500", "tpot:50,e2el:1e3", "ttft:", ":5", "ttft:-1", "ttft:NaN", "x:y:z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		slo, err := parseGoodput(strings.Split(s, ","))
		if err == nil && (slo.TTFT < 0 || slo.TPOT < 0 || slo.E2E < 0) {
			t.Errorf("%q: negative objective %+v accepted", s, slo)
		}
	})
}

// TestSingleVLLMFlags: single takes vLLM's names too, onto the matrix's keys; its dry run
// shows the load they give.
func TestSingleVLLMFlags(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--request-rate", "5", "--max-concurrency", "3", "--goodput", "ttft:500", "tpot:40", "--burstiness", "0.5"}, ExitOK,
			"--rate 5 --arrival gamma --burstiness 0.5 --max-inflight 3 --goodput ttft:500 tpot:40"},
		{[]string{"--max-concurrency", "7", "--seed", "9"}, ExitOK, "--concurrency 7 --prompts short"},
		{[]string{"--seed", "9", "--ignore-eos=false"}, ExitOK, "--seed 9 --out"},
		{[]string{"--request-rate", "inf", "--max-concurrency", "4"}, ExitOK, "--concurrency 4 "},
		{[]string{"--request-rate", "5", "--rate", "3"}, ExitUsage, "--request-rate and --rate set the same thing"},
		{[]string{"--request-rate", "inf"}, ExitUsage, "give --max-concurrency N"},
		{[]string{"--goodput", "ttft:-1"}, ExitUsage, "an objective of 0 ms or less"},
		{[]string{"--request-rat", "5"}, ExitUsage, "did you mean --request-rate?"},
	} {
		code, out, errOut := runCLI(t, nil, append([]string{"single", "--engine", "sim", "--dry-run"}, c.args...)...)
		if code != c.code || !strings.Contains(out+errOut, c.want) {
			t.Errorf("%v: exit %d, want %d with %q\nstdout:\n%s\nstderr:\n%s", c.args, code, c.code, c.want, out, errOut)
		}
	}
}
