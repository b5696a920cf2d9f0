package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmscale/llmscale/internal/aggregate"
	"github.com/llmscale/llmscale/internal/results"
)

// writeSummary writes a results tree holding only agg/summary_metrics.parquet with the rows.
func writeSummary(t *testing.T, root string, rows ...aggregate.Row) {
	t.Helper()
	if err := aggregate.Write(filepath.Join(root, results.AggDir), rows); err != nil {
		t.Fatal(err)
	}
}

func summaryRow(id string, gpus, users int64, repeat int64, tput, ttft99 float64) aggregate.Row {
	return aggregate.Row{ExpID: id, Status: results.StatusDone, Repeat: repeat, GPUs: gpus, TP: gpus, DP: 1, PP: 1,
		Mode: "users", Users: users, Prompts: "medium", MaxTokens: 128, Engine: "sim",
		OutputThroughput: aggregate.F(tput), RequestThroughput: aggregate.F(tput / 128), TTFTP99: aggregate.F(ttft99)}
}

func compareTrees(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	writeSummary(t, filepath.Join(dir, "base"),
		summaryRow("b1", 1, 16, 1, 1000, 50), summaryRow("b1r2", 1, 16, 2, 1010, 52),
		summaryRow("b2", 2, 16, 1, 1800, 45), summaryRow("b2r2", 2, 16, 2, 1790, 44))
	writeSummary(t, filepath.Join(dir, "new"),
		summaryRow("n1", 1, 16, 1, 1005, 70), summaryRow("n1r2", 1, 16, 2, 1008, 71),
		summaryRow("n2", 2, 16, 1, 1500, 46), summaryRow("n2r2", 2, 16, 2, 1510, 45),
		summaryRow("n4", 4, 16, 1, 2600, 40))
	return dir
}

func TestCompareGolden(t *testing.T) {
	t.Parallel()
	dir := compareTrees(t)
	r := run(t, dir, nil, "compare", "base", "new", "--metrics", "output_throughput_tps,p99_ttft_ms", "--html", "cmp.html")
	if r.code != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	golden(t, "compare.golden", r.stdout)
	page, err := os.ReadFile(filepath.Join(dir, "cmp.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<caption>gpus=2 tp=2</caption>", `class="worse">-16.2%`, "only in B: gpus=4 tp=4 (n4)"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("cmp.html lacks %q", want)
		}
	}
}

func TestCompareFailOn(t *testing.T) {
	t.Parallel()
	dir := compareTrees(t)
	cases := []struct {
		name    string
		args    []string
		code    int
		stderrs []string
	}{
		{"ttft regression", []string{"--fail-on", "p99_ttft_ms>+10%"}, ExitThresholds, []string{"FAIL p99_ttft_ms>+10% at gpus=1 tp=1"}},
		{"throughput drop", []string{"--fail-on", "output_throughput_tps<-5%"}, ExitThresholds, []string{"at gpus=2 tp=2"}},
		{"passes", []string{"--fail-on", "p99_ttft_ms>+50%,output_throughput_tps<-20%"}, ExitOK, []string{"thresholds passed"}},
		{"absolute bound", []string{"--fail-on", "ttft_ms_p99>60"}, ExitThresholds, []string{"observed 70.5"}},
		{"nothing to check", []string{"--fail-on", "goodput_rps<-1%"}, ExitThresholds, []string{"no matched point has goodput_rps"}},
		{"bad threshold", []string{"--fail-on", "p99_ttft_ms=10"}, ExitUsage, []string{"METRIC OP VALUE"}},
		{"bad metric", []string{"--metrics", "speed"}, ExitUsage, []string{`unknown metric "speed"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := run(t, dir, nil, append([]string{"compare", "base", "new"}, c.args...)...)
			if r.code != c.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", r.code, c.code, r.stderr)
			}
			for _, want := range c.stderrs {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
				}
			}
		})
	}
}

func TestCompareNotResults(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := run(t, dir, nil, "compare", "nowhere", "neither")
	if r.code != ExitUsage || !strings.Contains(r.stderr, "not a results tree") {
		t.Errorf("exit %d, stderr %q; want %d and 'not a results tree'", r.code, r.stderr, ExitUsage)
	}
	if r := run(t, dir, nil, "compare", "one"); r.code != ExitUsage {
		t.Errorf("one argument: exit %d, want %d", r.code, ExitUsage)
	}
}

func TestLoadTokenizerMissing(t *testing.T) {
	t.Parallel()
	r := run(t, t.TempDir(), nil, "load", "--host", "http://127.0.0.1:1", "--model", "m", "--prompts", "random:8:2",
		"--tokenizer", "nope/tokenizer.json")
	if r.code != ExitUsage || !strings.Contains(r.stderr, "--tokenizer") {
		t.Errorf("exit %d, stderr %q; want %d naming --tokenizer", r.code, r.stderr, ExitUsage)
	}
}
