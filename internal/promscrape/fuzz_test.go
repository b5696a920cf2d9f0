package promscrape

import (
	"strings"
	"testing"
)

// Fuzz runs (the OpenMetrics decoder is slow, so it has its own target):
//
//	go test ./internal/promscrape -run '^$' -fuzz FuzzParseText -fuzztime 60s
//	go test ./internal/promscrape -run '^$' -fuzz FuzzParseOpenMetrics -fuzztime 60s

// FuzzParseText feeds arbitrary bytes to Parse as the Prometheus text format: it must never
// panic, and what it accepts must be well-formed samples.
func FuzzParseText(f *testing.F) {
	for _, name := range []string{"vllm-v1-dp2.txt", "vllm-0.10-dp2-deprecated.txt", "vllm-v0-legacy.txt"} {
		f.Add(readCapture(f, name)[:2048])
	}
	for _, name := range []string{"llamacpp.txt", "sglang.txt", "tgi.txt"} {
		f.Add(readCapture(f, name))
	}
	f.Add([]byte("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n"))
	f.Add([]byte(`x{a="\"\n\\"} NaN` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) { checkParse(t, data, textType) })
}

// FuzzParseOpenMetrics is FuzzParseText for OpenMetrics. Inputs are kept short: expfmt's
// OpenMetrics decoder costs milliseconds per line, which would stall minimisation.
func FuzzParseOpenMetrics(f *testing.F) {
	f.Add(readCapture(f, "vllm-v1-dp2.openmetrics.txt")[:500])
	f.Add([]byte("# TYPE a counter\n# EOF\n"))
	f.Add([]byte("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\nh_created 1\n# EOF\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 512 {
			return
		}
		checkParse(t, data, omType)
	})
}

func checkParse(t *testing.T, data []byte, contentType string) {
	t.Helper()
	samples, err := Parse(data, contentType)
	if err != nil {
		if samples != nil {
			t.Fatalf("Parse returned samples with an error: %v", err)
		}
		return
	}
	checkSamples(t, samples)
}

func checkSamples(t *testing.T, samples []Sample) {
	t.Helper()
	seen := map[string]bool{}
	for _, s := range samples {
		if s.Name == "" || s.OriginalName == "" {
			t.Fatalf("sample without a name: %+v", s)
		}
		switch s.Type {
		case TypeCounter, TypeGauge, TypeHistogram, TypeGaugeHistogram, TypeSummary, TypeUntyped:
		default:
			t.Fatalf("sample %s has type %q", s.Name, s.Type)
		}
		for i := 1; i < len(s.Labels); i++ {
			if s.Labels[i-1].Name >= s.Labels[i].Name {
				t.Fatalf("labels of %s not sorted and unique: %v", s.Name, s.Labels)
			}
		}
		back, err := ParseLabels(FormatLabels(s.Labels))
		if err != nil || len(back) != len(s.Labels) {
			t.Fatalf("labels %v do not round-trip: %v, %v", s.Labels, back, err)
		}
		if k := s.key(); seen[k] {
			t.Fatalf("series %s twice in one scrape", k)
		} else {
			seen[k] = true
		}
		if strings.HasSuffix(s.Name, "_bucket") && s.Type == TypeHistogram && s.Labels.Get("le") == "" {
			t.Fatalf("bucket without le: %+v", s)
		}
	}
}

// FuzzParseLabels checks that ParseLabels never panics and that what it accepts formats back
// to an equivalent string.
func FuzzParseLabels(f *testing.F) {
	f.Add("")
	f.Add("a=1,b=2")
	f.Add(`k=v\,w\=x\\y`)
	f.Add("=,")
	f.Fuzz(func(t *testing.T, s string) {
		ls, err := ParseLabels(s)
		if err != nil {
			return
		}
		again, err := ParseLabels(FormatLabels(ls))
		if err != nil || len(again) != len(ls) {
			t.Fatalf("ParseLabels(FormatLabels(%v)) = %v, %v", ls, again, err)
		}
		for i := range ls {
			if again[i] != ls[i] {
				t.Fatalf("label %d: %v, want %v", i, again[i], ls[i])
			}
		}
	})
}

func TestLabelsRoundTrip(t *testing.T) {
	t.Parallel()
	for _, ls := range []Labels{
		nil,
		{{"engine", "0"}, {"model_name", "Qwen/Qwen3-8B"}},
		{{"a", ""}, {"b", "x,y=z\\w"}, {"c", "=="}},
		{{"running_lora_adapters", "lora-1,lora-2"}},
	} {
		s := FormatLabels(ls)
		got, err := ParseLabels(s)
		if err != nil {
			t.Fatalf("ParseLabels(%q): %v", s, err)
		}
		if len(got) != len(ls) {
			t.Fatalf("ParseLabels(%q) = %v, want %v", s, got, ls)
		}
		for i := range ls {
			if got[i] != ls[i] {
				t.Errorf("ParseLabels(%q)[%d] = %v, want %v", s, i, got[i], ls[i])
			}
		}
	}
	if got := FormatLabels(Labels{{"engine", "0"}, {"model_name", "m"}}); got != "engine=0,model_name=m" {
		t.Errorf("FormatLabels = %q", got)
	}
	for _, bad := range []string{"a", "a=1,b", `a=1\`, "a=1,=,"} {
		if _, err := ParseLabels(bad); err == nil {
			t.Errorf("ParseLabels(%q) gave no error", bad)
		}
	}
}
