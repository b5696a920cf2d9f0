package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestReportCommand: report aggregates a tree that has no summary yet, reads the summary
// the next time, aggregates again when an experiment changed after it, and writes
// report.html and the figures (into --out when given), printing the report's path.
func TestReportCommand(t *testing.T) {
	t.Parallel()
	root := analysisTree(t, true) // with an unreadable experiment: reported, not fatal
	dir := filepath.Dir(root)
	r := run(t, dir, nil, "report", "--results", "results")
	if r.code != ExitOK || strings.TrimSpace(r.stdout) != filepath.Join(root, "report.html") ||
		!strings.Contains(r.stderr, "summary_metrics.parquet not found: running aggregate") ||
		!strings.Contains(r.stderr, "c_broken: request file unreadable") {
		t.Fatalf("first report: code %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	html, err := os.ReadFile(filepath.Join(root, "report.html"))
	if err != nil || !strings.Contains(string(html), "DP-only · short · 2 tok") || !strings.Contains(string(html), "c_broken") {
		t.Errorf("report.html (%v) lacks the series or the broken experiment", err)
	}
	for _, f := range []string{"figs/pareto.svg", "figs/pareto.png", "agg/summary_metrics.parquet"} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Errorf("no %s: %v", f, err)
		}
	}

	out := filepath.Join(dir, "elsewhere")
	r = run(t, dir, nil, "report", "--results", "results", "--out", "elsewhere")
	if r.code != ExitOK || strings.TrimSpace(r.stdout) != filepath.Join(out, "report.html") || strings.Contains(r.stderr, "running aggregate") {
		t.Fatalf("second report: code %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "figs", "pareto.svg")); err != nil {
		t.Errorf("--out: %v", err)
	}

	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(filepath.Join(root, "raw", "c_G1_TP1_DP1_U8", "experiment.json"), later, later); err != nil {
		t.Fatal(err)
	}
	r = run(t, dir, nil, "report", "--results", "results")
	if r.code != ExitOK || !strings.Contains(r.stderr, "c_G1_TP1_DP1_U8 changed after") {
		t.Errorf("report after a change: code %d\nstderr: %s", r.code, r.stderr)
	}
}
