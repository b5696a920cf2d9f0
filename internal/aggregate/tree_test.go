package aggregate

import (
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/llmscale/llmscale/internal/promscrape"
	"github.com/llmscale/llmscale/internal/results"
)

// TestFastReadsSummariseAlike: on a generated tree of a campaign's shape, the requests and
// server metrics read column by column (what Experiment does) give exactly the row that
// whole-row reads (what it did before) give.
func TestFastReadsSummariseAlike(t *testing.T) {
	t.Parallel()
	root := genTree(t, 3)
	dirs, err := listExperimentDirs(root)
	if err != nil || len(dirs) != 3 {
		t.Fatalf("%d experiments, %v", len(dirs), err)
	}
	for _, dir := range dirs {
		e, err := results.ReadExperiment(dir)
		if err != nil {
			t.Fatal(err)
		}
		full, err := results.ReadRequestsDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		fast, err := results.ReadRequestTimings(dir)
		if err != nil {
			t.Fatal(err)
		}
		var want, got Row
		if err := FillRequests(&want, full, e); err != nil {
			t.Fatal(err)
		}
		if err := FillRequests(&got, fast, e); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: requests (-whole rows +columns):\n%s", e.ID, diff)
		}
		path := filepath.Join(dir, results.ServerMetricsFile)
		sFull, err := results.ReadParquet[results.ServerMetric](path)
		if err != nil {
			t.Fatal(err)
		}
		sFast, err := results.ReadServerMetricSeries(path)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(promscrape.Summarize(sFull), promscrape.Summarize(sFast), cmpopts.EquateNaNs()); diff != "" {
			t.Errorf("%s: server metrics (-whole rows +columns):\n%s", e.ID, diff)
		}
	}
}

// TestTreeInFolderOrder: the parallel Tree gives every experiment's row, and error, in folder
// order, as aggregating one after the other does.
func TestTreeInFolderOrder(t *testing.T) {
	t.Parallel()
	root := genTree(t, 5)
	broken := results.Dir(root, "002_broken")
	if err := results.WriteExperiment(broken, windowExperiment("002_broken")); err != nil {
		t.Fatal(err)
	}
	rows, errs, err := Tree(root)
	if err != nil {
		t.Fatal(err)
	}
	dirs, _ := listExperimentDirs(root)
	var want []Row
	var wantErrs []string
	for _, d := range dirs {
		r, err := Experiment(d, TreeInfo{})
		want = append(want, r)
		if err != nil {
			wantErrs = append(wantErrs, err.Error())
		}
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Fatalf("rows (-one by one +parallel):\n%s", diff)
	}
	var gotErrs []string
	for _, e := range errs {
		gotErrs = append(gotErrs, e.Error())
	}
	if len(wantErrs) != 1 || !cmp.Equal(wantErrs, gotErrs) {
		t.Fatalf("errors %q, want %q (one: the experiment without requests)", gotErrs, wantErrs)
	}
}
