package promscrape

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	textType = "text/plain; version=0.0.4; charset=utf-8"
	omType   = "application/openmetrics-text; version=1.0.0; charset=utf-8"
)

func readCapture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "metrics", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parseCapture(t testing.TB, name, contentType string) []Sample {
	t.Helper()
	samples, err := Parse(readCapture(t, name), contentType)
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return samples
}

// find returns the samples called name whose labels include every pair in want.
func find(samples []Sample, name string, want ...string) []Sample {
	var out []Sample
	for _, s := range samples {
		if s.Name != name {
			continue
		}
		match := true
		for i := 0; i+1 < len(want); i += 2 {
			match = match && s.Labels.Get(want[i]) == want[i+1]
		}
		if match {
			out = append(out, s)
		}
	}
	return out
}

func one(t *testing.T, samples []Sample, name string, labels ...string) Sample {
	t.Helper()
	got := find(samples, name, labels...)
	if len(got) != 1 {
		t.Fatalf("%s%v: %d samples, want 1", name, labels, len(got))
	}
	return got[0]
}

func TestParseV1DataParallelCapture(t *testing.T) {
	t.Parallel()
	samples := parseCapture(t, "vllm-v1-dp2.txt", textType)
	for _, c := range []struct {
		name, engine, typ string
		value             float64
	}{
		{MetricRunning, "0", TypeGauge, 48},
		{MetricRunning, "1", TypeGauge, 41},
		// exact name: vllm:num_requests_waiting_by_reason must not be mistaken for it
		{MetricWaiting, "0", TypeGauge, 7},
		{MetricWaiting, "1", TypeGauge, 2},
		{MetricKVCacheUsage, "0", TypeGauge, 0.6231},
		{MetricPromptTokens, "0", TypeCounter, 60001},
		{MetricPromptTokens, "1", TypeCounter, 72603},
		{MetricPreemptions, "0", TypeCounter, 3},
		// the type comes from # TYPE: iteration_tokens_total is a histogram
		{MetricIterationTokens + "_count", "0", TypeHistogram, 596},
		{MetricIterationTokens + "_sum", "1", TypeHistogram, 98531},
		{MetricQueueTime + "_count", "1", TypeHistogram, 163},
	} {
		s := one(t, samples, c.name, LabelEngine, c.engine)
		if s.Value != c.value || s.Type != c.typ || s.Labels.Get(LabelModelName) != "Qwen/Qwen3-8B" {
			t.Errorf("%s{engine=%s} = %v (%s, %v), want %v (%s)", c.name, c.engine, s.Value, s.Type, s.Labels, c.value, c.typ)
		}
	}
	if got := find(samples, MetricWaiting); len(got) != 2 {
		t.Errorf("%s: %d series, want 2 (one per engine)", MetricWaiting, len(got))
	}
	for _, s := range samples {
		if strings.HasSuffix(s.Name, "_created") {
			t.Fatalf("_created series kept: %s %v", s.Name, s.Labels)
		}
		if s.Name != s.OriginalName {
			t.Errorf("%s renamed from %s in a capture that uses the new names", s.Name, s.OriginalName)
		}
	}
	buckets := find(samples, MetricIterationTokens+"_bucket", LabelEngine, "0")
	if len(buckets) != 14 || buckets[13].Labels.Get("le") != "+Inf" || buckets[1].Labels.Get("le") != "8" {
		t.Errorf("iteration_tokens_total buckets = %v, want 13 bounds and +Inf with le written as Prometheus does", buckets)
	}
	info := one(t, samples, MetricCacheConfigInfo, LabelEngine, "1")
	if info.Labels.Get("num_gpu_blocks") != "27054" || info.Labels.Get("block_size") != "16" {
		t.Errorf("cache_config_info labels = %v", info.Labels)
	}
	sizes := one(t, samples, "http_request_size_bytes_count", "handler", "/health")
	if sizes.Type != TypeSummary || sizes.Value != 31 {
		t.Errorf("summary count = %+v, want 31 of type summary", sizes)
	}
}

func TestParseOpenMetricsMatchesText(t *testing.T) {
	t.Parallel()
	om := parseCapture(t, "vllm-v1-dp2.openmetrics.txt", omType)
	inOM := map[string]bool{}
	for _, s := range om {
		inOM[s.Name] = true
	}
	var text []Sample
	for _, s := range parseCapture(t, "vllm-v1-dp2.txt", textType) {
		if inOM[s.Name] {
			text = append(text, s)
		}
	}
	if len(inOM) < 10 || len(om) < 60 {
		t.Fatalf("only %d series names, %d samples in the OpenMetrics capture", len(inOM), len(om))
	}
	if one(t, om, MetricPromptTokens, LabelEngine, "1").Type != TypeCounter {
		t.Errorf("OpenMetrics counter lost its type or _total name")
	}
	if diff := cmp.Diff(text, om); diff != "" {
		t.Errorf("OpenMetrics and text renderings of one registry differ (-text +om):\n%s", diff)
	}
}

func TestParseRenamesOldVLLMNames(t *testing.T) {
	t.Parallel()
	legacy := parseCapture(t, "vllm-v0-legacy.txt", textType)
	kv := one(t, legacy, MetricKVCacheUsage)
	if kv.OriginalName != "vllm:gpu_cache_usage_perc" || kv.Value != 0.4217451523545706 {
		t.Errorf("legacy KV usage = %+v, want renamed from vllm:gpu_cache_usage_perc", kv)
	}
	itl := one(t, legacy, MetricITL+"_count")
	if itl.OriginalName != "vllm:time_per_output_token_seconds_count" || itl.Value != 26842 || itl.Type != TypeHistogram {
		t.Errorf("legacy ITL count = %+v", itl)
	}
	for _, keep := range []string{"vllm:cpu_cache_usage_perc", "vllm:gpu_prefix_cache_hit_rate", "vllm:num_requests_swapped"} {
		one(t, legacy, keep) // no successor: kept as it is
	}
	if got := find(legacy, "vllm:gpu_cache_usage_perc"); len(got) != 0 {
		t.Errorf("old name still present: %v", got)
	}

	// vLLM 0.10 exposes old and new names side by side: renaming would duplicate series.
	both := parseCapture(t, "vllm-0.10-dp2-deprecated.txt", textType)
	for _, name := range []string{MetricKVCacheUsage, "vllm:gpu_cache_usage_perc", MetricPrefixQueries, "vllm:gpu_prefix_cache_queries_total"} {
		for _, s := range find(both, name) {
			if s.Name != s.OriginalName {
				t.Errorf("%s renamed from %s although both names are exposed", s.Name, s.OriginalName)
			}
		}
		if n := len(find(both, name)); n != 2 {
			t.Errorf("%s: %d series, want 2", name, n)
		}
	}
	if got := one(t, both, MetricITL+"_count", LabelEngine, "1"); got.OriginalName != "vllm:time_per_output_token_seconds_count" || got.Value != 28073 {
		t.Errorf("0.10 ITL = %+v, want time_per_output_token_seconds renamed", got)
	}
}

func TestParseSmallExpositions(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in string
		want     []Sample
	}{{
		name: "type from TYPE line, not from the name",
		in:   "# TYPE tokens_total histogram\ntokens_total_bucket{le=\"1.0\"} 1\ntokens_total_bucket{le=\"+Inf\"} 2\ntokens_total_sum 3\ntokens_total_count 2\n# TYPE busy_total gauge\nbusy_total 4\n",
		want: []Sample{
			{Name: "busy_total", OriginalName: "busy_total", Type: TypeGauge, Value: 4},
			{Name: "tokens_total_bucket", OriginalName: "tokens_total_bucket", Type: TypeHistogram, Labels: Labels{{"le", "1"}}, Value: 1},
			{Name: "tokens_total_bucket", OriginalName: "tokens_total_bucket", Type: TypeHistogram, Labels: Labels{{"le", "+Inf"}}, Value: 2},
			{Name: "tokens_total_sum", OriginalName: "tokens_total_sum", Type: TypeHistogram, Value: 3},
			{Name: "tokens_total_count", OriginalName: "tokens_total_count", Type: TypeHistogram, Value: 2},
		},
	}, {
		name: "implicit +Inf bucket is added",
		in:   "# TYPE h histogram\nh_bucket{a=\"x\",le=\"0.5\"} 1\nh_sum{a=\"x\"} 7\nh_count{a=\"x\"} 3\n",
		want: []Sample{
			{Name: "h_bucket", OriginalName: "h_bucket", Type: TypeHistogram, Labels: Labels{{"a", "x"}, {"le", "0.5"}}, Value: 1},
			{Name: "h_bucket", OriginalName: "h_bucket", Type: TypeHistogram, Labels: Labels{{"a", "x"}, {"le", "+Inf"}}, Value: 3},
			{Name: "h_sum", OriginalName: "h_sum", Type: TypeHistogram, Labels: Labels{{"a", "x"}}, Value: 7},
			{Name: "h_count", OriginalName: "h_count", Type: TypeHistogram, Labels: Labels{{"a", "x"}}, Value: 3},
		},
	}, {
		name: "_created dropped only beside its counter",
		in:   "# TYPE c_total counter\nc_total 5\n# TYPE c_created gauge\nc_created 1.7e9\n# TYPE lonely_created gauge\nlonely_created 2\n",
		want: []Sample{
			{Name: "c_total", OriginalName: "c_total", Type: TypeCounter, Value: 5},
			{Name: "lonely_created", OriginalName: "lonely_created", Type: TypeGauge, Value: 2},
		},
	}, {
		name: "summary quantiles",
		in:   "# TYPE s summary\ns{quantile=\"0.5\"} 0.2\ns_sum 4\ns_count 10\n# TYPE s_created gauge\ns_created 1\n",
		want: []Sample{
			{Name: "s", OriginalName: "s", Type: TypeSummary, Labels: Labels{{"quantile", "0.5"}}, Value: 0.2},
			{Name: "s_sum", OriginalName: "s_sum", Type: TypeSummary, Value: 4},
			{Name: "s_count", OriginalName: "s_count", Type: TypeSummary, Value: 10},
		},
	}, {
		name: "untyped and labels sorted",
		in:   "x{b=\"2\",a=\"1\"} 9\n",
		want: []Sample{{Name: "x", OriginalName: "x", Type: TypeUntyped, Labels: Labels{{"a", "1"}, {"b", "2"}}, Value: 9}},
	}, {
		name: "old name renamed when alone",
		in:   "# TYPE vllm:gpu_prefix_cache_hits_total counter\nvllm:gpu_prefix_cache_hits_total{engine=\"0\"} 8\n",
		want: []Sample{{Name: MetricPrefixHits, OriginalName: "vllm:gpu_prefix_cache_hits_total", Type: TypeCounter, Labels: Labels{{"engine", "0"}}, Value: 8}},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse([]byte(c.in), "")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("Parse(%q) (-want +got):\n%s", c.in, diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ name, in, contentType, want string }{
		{"garbage", "this is not { metrics", textType, "text"},
		{"second TYPE", "# TYPE a gauge\n# TYPE a counter\na 1\n", textType, "second TYPE"},
		{"bad value", "a one\n", textType, "text"},
		{"OpenMetrics without EOF", "# TYPE a gauge\na 1\n", omType, "openmetrics"},
		{"HTML error page", "<html><body>502 Bad Gateway</body></html>", "text/html", "text"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse([]byte(c.in), c.contentType)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Parse(%q) = %v, %v; want an error mentioning %q", c.in, got, err, c.want)
			}
		})
	}
}

func TestCanonicalName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"vllm:gpu_cache_usage_perc":           MetricKVCacheUsage,
		"vllm:time_per_output_token_seconds":  MetricITL,
		"vllm:gpu_prefix_cache_queries_total": MetricPrefixQueries,
		"vllm:gpu_prefix_cache_hits_total":    MetricPrefixHits,
		"vllm:gpu_cache_usage_perc_extra":     "vllm:gpu_cache_usage_perc_extra", // exact names only
		"vllm:num_requests_waiting_by_reason": "vllm:num_requests_waiting_by_reason",
		"vllm:kv_cache_usage_perc":            MetricKVCacheUsage,
	} {
		if got := CanonicalName(in); got != want {
			t.Errorf("CanonicalName(%q) = %q, want %q", in, got, want)
		}
	}
}
