package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/results"
)

// analysisTree writes a results tree of two 1- and 2-GPU DP experiments, and one whose request
// file is garbage when broken.
func analysisTree(t *testing.T, broken bool) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "results")
	for _, n := range []int{1, 2} {
		id := []string{"", "c_G1_TP1_DP1_U8", "c_G2_TP1_DP2_U8"}[n]
		e := results.Experiment{ID: id, Campaign: "c", Repeat: 1, Status: results.StatusDone,
			Server: results.ServerInfo{Engine: "sim", Model: "m", GPUs: n, TP: 1, DP: n, PP: 1},
			Load:   results.LoadInfo{Intensity: loadspec.Intensity{Mode: loadspec.Mode("users"), Users: 8}, Prompts: "short", MaxTokens: 2, Workers: 1, RunTimeNs: int64(time.Second)}}
		var rows []results.Request
		for i := range 10 * n {
			sent := int64(i) * int64(time.Second) / int64(10*n)
			rows = append(rows, results.Request{Seq: int64(i), Phase: results.PhaseMeasure, DueNs: sent, SentNs: sent,
				EndNs: sent + 1e6, DoneNs: sent + 1e6, FirstTokenNs: sent + 5e5, TTFTNs: 5e5, E2ENs: 1e6, TPOTNs: 5e5,
				OutputTokens: 2, PromptTokens: 4})
		}
		dir := results.Dir(root, id)
		if err := results.WriteExperiment(dir, e); err != nil {
			t.Fatal(err)
		}
		if err := results.WriteParquet(filepath.Join(dir, "requests.parquet"), rows); err != nil {
			t.Fatal(err)
		}
	}
	if broken {
		dir := results.Dir(root, "c_broken")
		results.WriteExperiment(dir, results.Experiment{ID: "c_broken", Status: results.StatusDone})
		os.WriteFile(filepath.Join(dir, "requests.parquet"), []byte("garbage"), 0o644)
	}
	return root
}

func TestAggregateFitDiagnoseCommands(t *testing.T) {
	t.Parallel()
	root := analysisTree(t, false)
	dir := filepath.Dir(root)
	r := run(t, dir, nil, "aggregate", "--results", "results")
	if r.code != 0 || !strings.Contains(r.stdout, "c_G2_TP1_DP2_U8") || !strings.Contains(r.stderr, "summary_metrics.parquet") {
		t.Fatalf("aggregate: code %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r = run(t, dir, map[string]string{"LLMSCALE_RESULTS": "results"}, "fit")
	if r.code != 0 || !strings.Contains(r.stdout, "DP-only · short · 2 tok") {
		t.Fatalf("fit: code %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r = run(t, dir, nil, "diagnose", "--results", "results")
	if r.code != 0 || !strings.Contains(r.stdout, "EXPERIMENT") || !strings.Contains(r.stdout, "DP-only") {
		t.Fatalf("diagnose: code %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, f := range []string{"summary_metrics.parquet", "summary_metrics.csv", "amdahl_fit.csv", "scaling_fits.parquet",
		"diagnosis.csv", "diagnosis.json"} {
		if _, err := os.Stat(filepath.Join(root, "agg", f)); err != nil {
			t.Errorf("no %s: %v", f, err)
		}
	}
}

// TestAggregateBrokenExperiment: one unreadable experiment is reported (exit 1 with a hint),
// the others are aggregated and the files written.
func TestAggregateBrokenExperiment(t *testing.T) {
	t.Parallel()
	root := analysisTree(t, true)
	r := run(t, filepath.Dir(root), nil, "aggregate", "--results", root)
	if r.code != ExitFailed || !strings.Contains(r.stderr, "c_broken: request file unreadable") || !strings.Contains(r.stderr, "hint:") {
		t.Errorf("code %d\n%s", r.code, r.stderr)
	}
	csv, err := os.ReadFile(filepath.Join(root, "agg", "summary_metrics.csv"))
	if err != nil || strings.Count(string(csv), "\n") != 4 || !strings.Contains(string(csv), "c_broken,,error,") {
		t.Errorf("summary_metrics.csv (%v):\n%s", err, csv)
	}
}

func TestFitInputTable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "t.csv"), []byte("series,gpus,throughput\ntp,1,100\ntp,2,180\ntp,4,300\n"), 0o644)
	r := run(t, dir, nil, "fit", "--input", "t.csv", "--out", "fits")
	if r.code != 0 || !strings.Contains(r.stdout, "tp ") {
		t.Fatalf("fit --input: code %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	csv, err := os.ReadFile(filepath.Join(dir, "fits", "amdahl_fit.csv"))
	if err != nil || !strings.Contains(string(csv), "\ntp,table,table,") {
		t.Errorf("amdahl_fit.csv (%v):\n%s", err, csv)
	}
	// Without --out the fits go beside the table, never over a campaign's own in results/agg.
	os.MkdirAll(filepath.Join(dir, "results", "agg"), 0o755)
	own := []byte("the campaign's own fits\n")
	os.WriteFile(filepath.Join(dir, "results", "agg", "amdahl_fit.csv"), own, 0o644)
	if r := run(t, dir, nil, "fit", "--input", "t.csv"); r.code != 0 || !strings.Contains(r.stderr, filepath.Join("t-fit", "amdahl_fit.csv")) {
		t.Fatalf("fit --input without --out: code %d\n%s", r.code, r.stderr)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "results", "agg", "amdahl_fit.csv")); string(got) != string(own) {
		t.Errorf("fit --input replaced results/agg/amdahl_fit.csv: %q", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "t-fit", "amdahl_fit.csv")); err != nil {
		t.Error(err)
	}
	os.WriteFile(filepath.Join(dir, "bad.csv"), []byte("name,n\nx,1\n"), 0o644)
	r = run(t, dir, nil, "fit", "--input", "bad.csv", "--out", "fits")
	if r.code != ExitUsage || !strings.Contains(r.stderr, "bad.csv") || !strings.Contains(r.stderr, "hint:") {
		t.Errorf("bad table: code %d\n%s", r.code, r.stderr)
	}
}

func TestAggregateNoResults(t *testing.T) {
	t.Parallel()
	r := run(t, t.TempDir(), nil, "aggregate", "--results", "nowhere")
	if r.code != ExitUsage || !strings.Contains(r.stderr, "llmscale run") {
		t.Errorf("code %d\n%s", r.code, r.stderr)
	}
}
