package promscrape

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/llmscale/llmscale/internal/results"
)

// engineRows is a window over one engine's /metrics page: an empty before snapshot (the
// server had done nothing yet), the page on two grid scrapes, and the page as the after
// snapshot, so every counter's increase is its value on the page.
func engineRows(t *testing.T, capture string) []results.ServerMetric {
	t.Helper()
	samples, err := Parse(readCapture(t, capture), "text/plain; version=0.0.4")
	if err != nil {
		t.Fatalf("%s: %v", capture, err)
	}
	start := time.Unix(1_700_000_000, 0)
	rows := Rows("e", results.PhaseBefore, -1, start, start, Snapshot{Time: start}, nil)
	for k := range 2 {
		at := start.Add(time.Duration(k) * time.Second)
		rows = append(rows, Rows("e", results.PhaseDuring, int64(k), at, start, Snapshot{Time: at, Samples: samples}, nil)...)
	}
	end := start.Add(2 * time.Second)
	return append(rows, Rows("e", results.PhaseAfter, -1, end, start, Snapshot{Time: end, Samples: samples}, nil)...)
}

// TestSummarizeEveryEngine: the same quantities come out of every engine's metrics, and what
// an engine does not export is NaN and listed missing — never 0.
func TestSummarizeEveryEngine(t *testing.T) {
	t.Parallel()
	nan := math.NaN()
	tests := []struct {
		capture, family string
		// running, waiting, kv mean, preemptions, prompt, generated, finished, steps,
		// tokens per step, queue s, e2e s, ttft s, itl s
		want    [13]float64
		missing []Quantity
	}{
		{"llamacpp.txt", FamilyLlamaCpp,
			[13]float64{1, 15, nan, nan, 8192, 4096, nan, 4160, (8192 + 4096) / 4160.0, nan, nan, nan, nan},
			[]Quantity{QKVUsage, QPreemptions, QRequestsFinished, QQueueTime, QPrefillTime, QDecodeTime, QInferenceTime, QE2E, QTTFT, QITL}},
		{"sglang.txt", FamilySGLang,
			[13]float64{48, 12, 0.62, 3, 51200, 25600, 200, nan, nan, 0.25, 3, 0.4, 0.02},
			[]Quantity{QEngineSteps, QStepTokens, QPrefillTime, QDecodeTime, QInferenceTime}},
		{"tgi.txt", FamilyTGI,
			[13]float64{32, 96, nan, nan, 71680, 35840, 280, 3100, (71680 + 35840) / 3100.0, 2, 5, nan, 0.03},
			[]Quantity{QKVUsage, QPreemptions, QPrefillTime, QDecodeTime, QTTFT}},
	}
	for _, tc := range tests {
		t.Run(tc.capture, func(t *testing.T) {
			t.Parallel()
			s := Summarize(engineRows(t, tc.capture))
			got := [13]float64{s.Running.Mean, s.Waiting.Mean, s.KVCacheUsage.Mean, s.Preemptions, s.PromptTokens,
				s.GenerationTokens, s.RequestsFinished, s.EngineIterations, s.MeanIterTokens, s.MeanQueueS, s.MeanE2ES,
				s.MeanTTFTS, s.MeanITLS}
			for i := range got {
				if !sameFloat(got[i], tc.want[i]) {
					t.Errorf("quantity %d = %v, want %v (all %v)", i, got[i], tc.want[i], got)
				}
			}
			if !slices.Equal(s.Families, []string{tc.family}) {
				t.Errorf("families %v, want [%s]", s.Families, tc.family)
			}
			if !slices.Equal(s.Missing, tc.missing) {
				t.Errorf("missing %v, want %v", s.Missing, tc.missing)
			}
		})
	}
}

func sameFloat(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b))
}

// vLLM's page gives every quantity (the V1 names), from both DP ranks.
func TestSummarizeVLLMHasEveryQuantity(t *testing.T) {
	t.Parallel()
	s := Summarize(engineRows(t, "vllm-v1-dp2.txt"))
	if len(s.Missing) != 0 || !slices.Equal(s.Families, []string{FamilyVLLM}) {
		t.Errorf("missing %v, families %v; want none missing, [vllm]", s.Missing, s.Families)
	}
	if s.Sources[QRunning] != MetricRunning || s.Sources[QStepTokens] != MetricIterationTokens {
		t.Errorf("sources %v", s.Sources)
	}
}

func TestOnGrid(t *testing.T) {
	t.Parallel()
	const sec = int64(time.Second)
	// four replicas, 8 running each, scraped on grids 0, 3, 7 and 12 ms apart
	var replicas []GridSample
	for r, off := range []int64{0, 3e6, 7e6, 12e6} {
		for k := range int64(5) {
			replicas = append(replicas, GridSample{Series: string(rune('a' + r)), TimeNs: k*sec + off, Value: 8})
		}
	}
	// replica b dies after its third scrape: carried one step, then gone
	var dying []GridSample
	for _, s := range replicas {
		if s.Series != "b" || s.TimeNs < 3*sec {
			dying = append(dying, s)
		}
	}
	// one series whose scrapes land half a step off the others' (jitter): two in one bin
	jitter := []GridSample{{"a", 0, 4}, {"a", sec, 4}, {"a", 2 * sec, 4}, {"b", 400e6, 2}, {"b", 1400e6, 2}, {"b", 1600e6, 2}}
	tests := []struct {
		name    string
		samples []GridSample
		step    int64
		across  Across
		want    []float64
	}{
		{"replicas ms apart are summed", replicas, sec, SumAcross, []float64{32, 32, 32, 32, 32}},
		{"step from the samples", replicas, 0, SumAcross, []float64{32, 32, 32, 32, 32}},
		{"mean across", replicas, sec, MeanAcross, []float64{8, 8, 8, 8, 8}},
		{"a dead replica drops out after one step", dying, sec, SumAcross, []float64{32, 32, 32, 32, 24}},
		{"a missing bin is carried one step", jitter, sec, SumAcross, []float64{6, 6, 6}},
		{"NaN skipped", []GridSample{{"a", 0, math.NaN()}, {"a", sec, 1}}, sec, SumAcross, []float64{1}},
		{"empty", nil, sec, SumAcross, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pts := OnGrid(tc.samples, tc.step, tc.across)
			var got []float64
			for _, p := range pts {
				got = append(got, p.Value)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("OnGrid = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestRealLlamaCppCapture reads the pages scripts/llamacpp/capture.sh records from a real
// llama-server (at rest, then after load) as a window's before and after snapshots: the token
// counters and steps must grow and the slot gauges be read. Skipped until the captures exist.
func TestRealLlamaCppCapture(t *testing.T) {
	t.Parallel()
	idle, errIdle := os.ReadFile(filepath.Join("testdata", "metrics", "llamacpp-idle.txt"))
	after, errAfter := os.ReadFile(filepath.Join("testdata", "metrics", "llamacpp-after.txt"))
	if errIdle != nil || errAfter != nil {
		t.Skip("no real llama-server capture (run scripts/llamacpp/capture.sh)")
	}
	start := time.Unix(1_700_000_000, 0)
	var rows []results.ServerMetric
	for i, p := range []struct {
		phase string
		body  []byte
	}{{results.PhaseBefore, idle}, {results.PhaseDuring, after}, {results.PhaseAfter, after}} {
		samples, err := Parse(p.body, "text/plain; version=0.0.4")
		if err != nil {
			t.Fatal(err)
		}
		at := start.Add(time.Duration(i) * time.Second)
		seq := int64(-1)
		if p.phase == results.PhaseDuring {
			seq = 0
		}
		rows = append(rows, Rows("e", p.phase, seq, at, start, Snapshot{Time: at, Samples: samples}, nil)...)
	}
	s := Summarize(rows)
	if !slices.Equal(s.Families, []string{FamilyLlamaCpp}) || !(s.GenerationTokens > 0) || !(s.PromptTokens > 0) ||
		!(s.EngineIterations > 0) || s.Running.Scrapes != 1 || s.Waiting.Scrapes != 1 || !math.IsNaN(s.Preemptions) {
		t.Errorf("summary of the real capture: %+v", s)
	}
}
