package analysis

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/llmscale/llmscale/internal/aggregate"
	"github.com/llmscale/llmscale/internal/diagnose"
	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/scaling"
)

// section returns the text of the "## title" section of a Markdown file.
func section(t *testing.T, path, title string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	start := strings.Index(doc, "\n## "+title+"\n")
	if start < 0 {
		t.Fatalf("%s has no section %q", path, title)
	}
	rest := doc[start+1:]
	if end := strings.Index(rest[3:], "\n## "); end >= 0 {
		rest = rest[:end+3]
	}
	return rest
}

var latencyColumn = regexp.MustCompile(`^([a-z0-9_]+_ms)_(mean|p50|p90|p95|p99|max)$`)

// TestColumnsDocumented: every column of every file the analysis writes is in
// docs/results.md, in the file's section (latencies as <name>_ms_*).
func TestColumnsDocumented(t *testing.T) {
	t.Parallel()
	files := []struct {
		section string
		columns []string
	}{
		{"summary_metrics", aggregate.Columns()},
		{"amdahl_fit.csv", results.Columns[scaling.AmdahlRow]()},
		{"scaling_fits.parquet", results.Columns[scaling.ScalingRow]()},
		{"diagnosis.csv and diagnosis.json", results.Columns[diagnose.Row]()},
		{"gpu.parquet", results.Columns[results.GPUSample]()},
	}
	for _, f := range files {
		text := section(t, "../../docs/results.md", f.section)
		for _, c := range f.columns {
			name := c
			if m := latencyColumn.FindStringSubmatch(c); m != nil && f.section == "summary_metrics" {
				name = m[1] + "_*"
			}
			if !strings.Contains(text, "`"+name+"`") {
				t.Errorf("docs/results.md, %s: column %s is not documented", f.section, name)
			}
		}
	}
}

// TestThresholdsDocumented: every threshold of the diagnosis is in docs/analysis.md.
func TestThresholdsDocumented(t *testing.T) {
	t.Parallel()
	text := section(t, "../../docs/analysis.md", "Bottleneck diagnosis")
	for name := range diagnose.Thresholds() {
		if !strings.Contains(text, "`"+name+"`") {
			t.Errorf("docs/analysis.md: threshold %s is not documented", name)
		}
	}
	for _, code := range []string{diagnose.CodeNotSaturated, diagnose.CodeLoadGenerator, diagnose.CodeBatchCap,
		diagnose.CodeKVCache, diagnose.CodePrefillBudget, diagnose.CodeAPIServer, diagnose.CodeTPComm,
		diagnose.CodeGPUBound, diagnose.CodeNearLinear, diagnose.CodeFailed, diagnose.CodeUnknown} {
		if !strings.Contains(text, "`"+code+"`") {
			t.Errorf("docs/analysis.md: verdict %s is not documented", code)
		}
	}
}

// TestExperimentJSONDocumented: every key of experiment.json is in docs/results.md.
func TestExperimentJSONDocumented(t *testing.T) {
	t.Parallel()
	text := section(t, "../../docs/results.md", "experiment.json and campaign.json")
	var keys func(reflect.Type)
	keys = func(typ reflect.Type) {
		for i := range typ.NumField() {
			f := typ.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			if !strings.Contains(text, "`"+name+"`") {
				t.Errorf("docs/results.md: experiment.json key %s is not documented", name)
			}
			if f.Type.Kind() == reflect.Struct && f.Type.PkgPath() == typ.PkgPath() {
				keys(f.Type)
			}
		}
	}
	keys(reflect.TypeFor[results.Experiment]())
}
