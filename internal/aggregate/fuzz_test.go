package aggregate

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmscale/llmscale/internal/results"
)

var update = flag.Bool("update", false, "rewrite the fuzz seeds in testdata/")

// TestFuzzSeeds keeps testdata/ in step with the row types: go test -run FuzzSeeds -update.
func TestFuzzSeeds(t *testing.T) {
	if !*update {
		t.Skip("run with -update to rewrite testdata/")
	}
	if err := results.WriteParquet(filepath.Join("testdata", "requests.parquet"), handRows()); err != nil {
		t.Fatal(err)
	}
	if err := results.WriteParquet(filepath.Join("testdata", "server_metrics.parquet"), serverRows(t)); err != nil {
		t.Fatal(err)
	}
}

// FuzzJSONFiles: whatever bytes experiment.json or a worker's summary.json hold, aggregation
// gives a row and either an error or a usable row, never a panic or a hang.
//
//	go test ./internal/aggregate -run '^$' -fuzz FuzzJSONFiles -fuzztime 60s
func FuzzJSONFiles(f *testing.F) {
	good, err := json.Marshal(windowExperiment("fz"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(true, good)
	f.Add(true, []byte(`{"exp_id": "x", "status": "done", "load": {"run_time_ns": -5, "workers": 1000000000}}`))
	f.Add(true, []byte(`{"status": "done", "load": {"warmup_ns": 9223372036854775807, "run_time_ns": 9223372036854775807}}`))
	f.Add(false, []byte(`{"client_cores_busy": "many"}`))
	f.Add(false, []byte(`{"client_cores_busy": 1e308, "client_cores": -1}`))
	f.Fuzz(func(t *testing.T, experiment bool, data []byte) {
		dir := fuzzDir(t)
		name := "summary.json"
		if experiment {
			name = results.ExperimentFile
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
		checkRow(t, dir)
	})
}

// FuzzTruncatedFiles: a raw Parquet file cut anywhere (a partial copy, a crash mid-write of a
// tool other than llmscale, whose own writes are atomic) gives a clear error, never a panic.
// Arbitrary bytes inside a Parquet file are not fuzzed: parquet-go allocates whatever size a
// corrupted page header claims (docs/results.md, "summary_metrics").
//
//	go test ./internal/aggregate -run '^$' -fuzz FuzzTruncatedFiles -fuzztime 60s
func FuzzTruncatedFiles(f *testing.F) {
	for _, cut := range []uint16{0, 4, 8, 100, 1000, 4000} {
		f.Add(true, cut)
		f.Add(false, cut)
	}
	f.Fuzz(func(t *testing.T, requests bool, cut uint16) {
		name := results.ServerMetricsFile
		if requests {
			name = "requests.parquet"
		}
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		dir := fuzzDir(t)
		if err := os.WriteFile(filepath.Join(dir, name), data[:int(cut)%len(data)], 0o644); err != nil {
			t.Fatal(err)
		}
		row, err := Experiment(dir, TreeInfo{})
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Fatalf("a truncated %s: error %v, row status %q", name, err, row.Status)
		}
	})
}

// fuzzDir is an experiment folder with a good experiment.json and requests.parquet.
func fuzzDir(t *testing.T) string {
	t.Helper()
	e := windowExperiment("fz")
	dir := results.Dir(t.TempDir(), e.ID)
	if err := results.WriteExperiment(dir, e); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join("testdata", "requests.parquet"))
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, "requests.parquet"), data, 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func checkRow(t *testing.T, dir string) {
	t.Helper()
	row, err := Experiment(dir, TreeInfo{})
	if row.ExpID == "" {
		t.Fatal("a row without an exp_id")
	}
	if err == nil && row.Status == StatusError {
		t.Fatalf("status error without an error: %s", row.FailureReason)
	}
	if err != nil && !strings.Contains(err.Error(), row.ExpID) {
		t.Fatalf("error %v does not name the experiment %s", err, row.ExpID)
	}
}
