package treegen

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/llmscale/llmscale/internal/results"
)

const exposition = `# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="m"} 3
# TYPE vllm:generation_tokens_total counter
vllm:generation_tokens_total{engine="0",model_name="m"} 100
`

func small(seed uint64) Options {
	return Options{Experiments: 2, Requests: 40, MinTokens: 2, MaxTokens: 9, Scrapes: 3, Exposition: []byte(exposition), Seed: seed}
}

// TestWriteIsDeterministic: the same options write the same bytes; another seed other requests.
func TestWriteIsDeterministic(t *testing.T) {
	t.Parallel()
	a, b, c := t.TempDir(), t.TempDir(), t.TempDir()
	st, err := Write(a, small(1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Write(b, small(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(c, small(2)); err != nil {
		t.Fatal(err)
	}
	if st.Experiments != 2 || st.Requests != 80 || st.ServerMetricRows != 2*5*(2+3) {
		t.Fatalf("stats %+v: want 2 experiments, 80 requests, 50 server-metric rows", st)
	}
	files, _ := filepath.Glob(filepath.Join(a, results.RawDir, "*", "*"))
	if len(files) != 2*5 {
		t.Fatalf("%d files, want 5 an experiment", len(files))
	}
	for _, f := range files {
		rel, _ := filepath.Rel(a, f)
		x, _ := os.ReadFile(f)
		y, _ := os.ReadFile(filepath.Join(b, rel))
		z, _ := os.ReadFile(filepath.Join(c, rel))
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two writes of the same seed", rel)
		}
		if filepath.Base(f) == "requests.parquet" && bytes.Equal(x, z) {
			t.Errorf("%s is the same for seeds 1 and 2", rel)
		}
	}
}

func TestWriteRefusesBadOptions(t *testing.T) {
	t.Parallel()
	for _, o := range []Options{{}, {Experiments: 1, Requests: 1, MinTokens: 5, MaxTokens: 4}, {Experiments: 1, Requests: 1, MinTokens: 0, MaxTokens: 4}} {
		if _, err := Write(t.TempDir(), o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
	bad := small(1)
	bad.Exposition = []byte("not { a metrics body")
	if _, err := Write(t.TempDir(), bad); err == nil {
		t.Error("a bad exposition: no error")
	}
}
