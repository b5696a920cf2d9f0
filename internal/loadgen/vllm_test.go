package loadgen

import (
	"bytes"
	"encoding/json"
	"math"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/results"
)

// vllmSchema is the result file of vllm bench serve --save-result --save-detailed, key by key
// with the JSON type Python's json module writes, from vllm/benchmarks/serve.py (main_async's
// result_json and benchmark's result, default --percentile-metrics ttft,tpot,itl and
// --metric-percentiles 99). "null|number" is a value that is None in some runs.
var vllmSchema = map[string]string{
	"date": "string", "endpoint_type": "string", "backend": "string", "label": "null|string",
	"model_id": "string", "tokenizer_id": "null|string", "num_prompts": "int",
	"request_rate": "float|string", "burstiness": "float|string", "max_concurrency": "null|int",
	"duration": "float", "completed": "int", "failed": "int", "total_input_tokens": "int",
	"total_output_tokens": "int", "request_throughput": "float", "request_goodput": "null|float",
	"output_throughput": "float", "total_token_throughput": "float",
	"input_lens": "[int]", "output_lens": "[int]", "ttfts": "[float]", "itls": "[[float]]",
	"latencies": "[float]", "start_times": "[float]", "queue_times": "[float]",
	"generated_texts": "[string]", "errors": "[string]",
	"max_output_tokens_per_s": "float", "max_concurrent_requests": "int", "rtfx": "float",
	"mean_ttft_ms": "float", "median_ttft_ms": "float", "std_ttft_ms": "float", "p99_ttft_ms": "float",
	"mean_tpot_ms": "float", "median_tpot_ms": "float", "std_tpot_ms": "float", "p99_tpot_ms": "float",
	"mean_itl_ms": "float", "median_itl_ms": "float", "std_itl_ms": "float", "p99_itl_ms": "float",
}

// jsonType names a decoded JSON value's type as Python would see it: an integer is a number
// without a fraction or exponent.
func jsonType(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case json.Number:
		if _, err := x.Int64(); err == nil {
			return "int"
		}
		return "float"
	case []any:
		if len(x) == 0 {
			return "[]"
		}
		return "[" + jsonType(x[0]) + "]"
	}
	return "other"
}

func schemaOK(want, got string) bool {
	if got == "[]" && want[0] == '[' {
		return true
	}
	if want == "[[float]]" && got == "[[]]" {
		return true
	}
	return slices.Contains(splitAlt(want), got)
}

func splitAlt(s string) []string {
	var out []string
	start := 0
	for i := range len(s) {
		if s[i] == '|' {
			out, start = append(out, s[start:i]), i+1
		}
	}
	return append(out, s[start:])
}

// vllmRows are four requests of a 2-second window: three succeeded (one with a single
// token), one failed, one ended after the window, one was never sent.
func vllmRows() []results.Request {
	ms := func(x float64) int64 { return int64(x * 1e6) }
	ok := func(seq, sent int64, ttft, e2e float64, out int32, itl ...float64) results.Request {
		q := results.Request{Seq: seq, SentNs: sent, DueNs: sent - ms(1), StartUnixNs: 1e18 + sent, PromptTokens: 10,
			OutputTokens: out, TTFTNs: ms(ttft), E2ENs: ms(e2e), EndNs: sent + ms(e2e), Phase: results.PhaseMeasure}
		if out > 1 {
			q.TPOTNs = (q.E2ENs - q.TTFTNs) / int64(out-1)
		}
		for _, g := range itl {
			q.ITLNs = append(q.ITLNs, ms(g))
		}
		return q
	}
	fail := results.Request{Seq: 3, SentNs: ms(300), DueNs: ms(300), StartUnixNs: 1e18 + ms(300), EndNs: ms(310),
		PromptTokens: 10, ErrorKind: results.ErrorHTTP, Error: "503 Service Unavailable", Phase: results.PhaseMeasure}
	notSent := results.Request{Seq: 4, DueNs: ms(400), EndNs: ms(1500), ErrorKind: results.ErrorNotSent}
	late := ok(5, ms(1900), 50, 200, 3, 75, 75)
	return []results.Request{
		ok(0, ms(100), 100, 400, 4, 100, 100, 100),
		ok(1, ms(200), 600, 600, 1),
		ok(2, ms(250), 200, 500, 4, 0, 150, 150), // a gap of exactly 0 ms: two chunks at once
		fail, notSent, late,
	}
}

func TestVLLMResultMatchesVLLMSchema(t *testing.T) {
	t.Parallel()
	o := VLLMOptions{Date: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), ModelID: "org/model", RequestRate: math.Inf(1),
		Burstiness: 1, MaxConcurrency: 8, SLO: loadspec.SLO{TTFT: 500 * time.Millisecond}, Detailed: true}
	b, err := json.Marshal(VLLMResult(vllmRows(), 0, 2*time.Second, o))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	for k, want := range vllmSchema {
		v, ok := doc[k]
		if !ok {
			t.Errorf("key %s missing", k)
			continue
		}
		if got := jsonType(v); !schemaOK(want, got) {
			t.Errorf("%s: JSON type %s, want %s (value %v)", k, got, want, v)
		}
	}
	if doc["request_rate"] != "inf" || doc["date"] != "20260102-030405" || doc["backend"] != "openai" {
		t.Errorf("request_rate %v, date %v, backend %v", doc["request_rate"], doc["date"], doc["backend"])
	}
}

// TestVLLMResultValues: the figures are vLLM's calculate_metrics over the window's requests.
func TestVLLMResultValues(t *testing.T) {
	t.Parallel()
	o := VLLMOptions{RequestRate: 4, Burstiness: 0.5, Metrics: []string{"ttft", "tpot", "itl", "e2el"},
		Percentiles: []float64{50, 99.9}, SLO: loadspec.SLO{TTFT: 500 * time.Millisecond, TPOT: 110 * time.Millisecond}, Detailed: true}
	doc := VLLMResult(vllmRows(), 0, 2*time.Second, o)
	f := func(k string) float64 { return float64(doc[k].(pyFloat)) }
	checks := []struct {
		key  string
		got  any
		want any
	}{
		{"completed", doc["completed"], 3},
		{"failed", doc["failed"], 1},
		{"num_prompts", doc["num_prompts"], 4}, // the sent requests of the window
		{"total_output_tokens", doc["total_output_tokens"], int64(9)},
		{"duration", f("duration"), 2.0},
		{"request_throughput", f("request_throughput"), 1.5},
		// seq 0 and 2 meet both (TTFT 100 and 200, TPOT 100); seq 1 misses TTFT (600 ms)
		{"request_goodput", f("request_goodput"), 1.0},
		{"request_rate", f("request_rate"), 4.0},
		{"mean_ttft_ms", math.Round(f("mean_ttft_ms")*1e6) / 1e6, 300.0},
		{"median_ttft_ms", f("median_ttft_ms"), 200.0},
		{"p50_ttft_ms", f("p50_ttft_ms"), 200.0},
		{"p99.9_ttft_ms", math.Round(f("p99.9_ttft_ms")*1e6) / 1e6, 599.2},
		{"mean_tpot_ms", f("mean_tpot_ms"), 100.0},
		{"median_itl_ms", f("median_itl_ms"), 100.0},
		{"max_concurrent_requests", doc["max_concurrent_requests"], 3},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v (%T), want %v (%T)", c.key, c.got, c.got, c.want, c.want)
		}
	}
	if errs := doc["errors"].([]string); len(errs) != 4 || errs[3] != "http: 503 Service Unavailable" || errs[0] != "" {
		t.Errorf("errors %q", errs)
	}
	var itls [][]float64
	if b, err := json.Marshal(doc["itls"]); err != nil || json.Unmarshal(b, &itls) != nil || len(itls) != 4 ||
		len(itls[2]) != 3 || itls[2][0] != 0 || len(itls[3]) != 0 {
		t.Errorf("itls %s (%v)", b, err)
	}
	if _, ok := doc["p99_ttft_ms"]; ok {
		t.Error("p99_ttft_ms written, but --metric-percentiles was 50,99.9")
	}
}

// TestVLLMResultNoDetailAndNoRequests: without --save-detailed the arrays go, as in vLLM; an
// empty window gives vLLM's zeros, never NaN (which JSON cannot hold).
func TestVLLMResultNoDetailAndNoRequests(t *testing.T) {
	t.Parallel()
	doc := VLLMResult(nil, 0, 0, VLLMOptions{})
	for _, k := range []string{"ttfts", "itls", "errors", "input_lens"} {
		if _, ok := doc[k]; ok {
			t.Errorf("%s written without Detailed", k)
		}
	}
	if _, err := json.Marshal(doc); err != nil {
		t.Fatalf("an empty result does not encode: %v", err)
	}
	if doc["mean_ttft_ms"] != pyFloat(0) || doc["request_goodput"] != nil || doc["completed"] != 0 {
		t.Errorf("mean_ttft_ms %v, request_goodput %v, completed %v", doc["mean_ttft_ms"], doc["request_goodput"], doc["completed"])
	}
}

func TestPyFloat(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   float64
		want string
	}{{1, "1.0"}, {0, "0.0"}, {-2, "-2.0"}, {0.25, "0.25"}, {123456789, "123456789.0"}, {1e-5, "1e-05"},
		{0.0001, "0.0001"}, {1e16, "1e+16"}, {math.NaN(), "null"}, {math.Inf(1), "null"}, {7.999, "7.999"}} {
		b, err := json.Marshal(pyFloat(c.in))
		if err != nil || string(b) != c.want {
			t.Errorf("pyFloat(%v) = %s, %v; want %s", c.in, b, err, c.want)
		}
	}
}

// TestWriteVLLMResultFromFiles: the file streamed from request files (two workers' here)
// holds the document VLLMResult makes of the same records in memory.
func TestWriteVLLMResultFromFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rows := vllmRows()
	second := slices.Clone(rows[2:])
	for i := range second {
		second[i].WorkerID = 1
	}
	files := []string{filepath.Join(dir, "requests-0.parquet"), filepath.Join(dir, "requests-1.parquet")}
	if results.WriteParquet(files[0], rows[:2]) != nil || results.WriteParquet(files[1], second) != nil {
		t.Fatal("writing the request files failed")
	}
	o := VLLMOptions{Date: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), ModelID: "m", RequestRate: math.Inf(1), Burstiness: 1,
		Metrics: VLLMMetricNames(), Percentiles: []float64{25, 50, 99.9}, Detailed: true, Metadata: map[string]any{"exp_id": "e"}}
	path := filepath.Join(dir, VLLMResultFile)
	if err := WriteVLLMResult(path, files, 0, 2*time.Second, o); err != nil {
		t.Fatal(err)
	}
	var got, want map[string]any
	if err := results.ReadJSON(path, &got); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(VLLMResult(append(rows[:2:2], second...), 0, 2*time.Second, o))
	if err != nil || json.Unmarshal(b, &want) != nil {
		t.Fatalf("in memory: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" || len(got["itls"].([]any)) != 4 {
		t.Errorf("streamed file differs from the document in memory (-want +got):\n%s", diff)
	}
}
