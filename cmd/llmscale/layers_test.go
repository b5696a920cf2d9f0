package main

import (
	"errors"
	"fmt"
	"go/build"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The import graph of llmscale, drawn in docs/architecture.md. Each package has a floor; a
// package imports only packages on lower floors, so the flow never bends back. The packages
// fall on two sides that meet only in the shared floors below them: running an experiment
// (the campaign, its servers, load and telemetry) and reading its results (aggregation,
// fits, verdicts, the report). A shared package imports neither side; a reading package
// never imports a running one, except for the edges in readsRunning.
var floors = [][]string{
	// 0: leaves, importing nothing of llmscale.
	{"loadspec", "tokens", "sse", "schedule", "pollhttp", "host", "memnet", "golden", "gguf", "tokenizer", "fit", "sweep",
		"reportdata", "report/format"},
	// 1: prompts and the results tree: the records every stage writes or reads; charts.
	{"workload", "results", "report/charts"},
	// 2: the matrix file; request statistics; telemetry, each writing its own records; figures.
	{"spec", "stats", "gpu", "promscrape", "otlp", "sim", "report/figures"},
	// 3: the plan; the load generator; per-experiment summaries; a synthetic results tree.
	{"matrix", "loadgen", "aggregate", "treegen"},
	// 4: servers of a plan; scaling series.
	{"server", "scaling"},
	// 5: the campaign; verdicts.
	{"campaign", "diagnose"},
	// 6: the Slurm executor; the analysis and comparison of campaigns.
	{"slurm", "analysis", "compare"},
	// 7: reading a results tree for the report; the report.
	{"resultstree", "report"},
	// 8: the command line.
	{"cli"},
}

// sides of the packages above the leaves; every other package is shared, except treegen
// (benchmark tooling that writes what both sides do).
var (
	running = []string{"loadgen", "gpu", "promscrape", "otlp", "sim", "server", "campaign", "slurm"}
	reading = []string{"aggregate", "scaling", "diagnose", "analysis", "compare", "resultstree", "report", "reportdata",
		"report/format", "report/charts", "report/figures", "fit"}
	shared = []string{"loadspec", "tokens", "sse", "schedule", "pollhttp", "host", "memnet", "golden", "gguf",
		"tokenizer", "sweep", "stats", "workload", "results", "spec", "matrix"}
)

// readsRunning are the reading side's imports of running packages that remain, and why.
var readsRunning = map[[2]string]string{
	{"aggregate", "gpu"}:          "the GPU sample columns and their parsing",
	{"aggregate", "promscrape"}:   "the engines' metric names and the window statistics of a scrape",
	{"resultstree", "gpu"}:        "the GPU sample columns",
	{"resultstree", "promscrape"}: "the engines' metric names",
}

// TestLayers fails when a package imports one on its own floor or above, or a package on the
// other side, or when a package has no floor.
func TestLayers(t *testing.T) {
	graph, err := importGraph(filepath.Join("..", "..", "internal"))
	if err != nil {
		t.Fatal(err)
	}
	for _, problem := range checkLayers(graph) {
		t.Error(problem)
	}
}

// TestLayersDrawn: docs/architecture.md draws the floors the test checks.
func TestLayersDrawn(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	for i, pkgs := range floors {
		line := fmt.Sprintf("floor %d: %s\n", i, strings.Join(pkgs, " "))
		if !strings.Contains(string(doc), line) {
			t.Errorf("docs/architecture.md lacks the line %q", line)
		}
	}
}

func TestCheckLayersCatches(t *testing.T) {
	for _, tt := range []struct {
		name  string
		graph map[string][]string
		want  string
	}{
		{"upward", map[string][]string{"results": {"aggregate"}, "aggregate": nil}, "results (floor 1) imports aggregate (floor 3)"},
		{"same floor", map[string][]string{"stats": {"gpu"}, "gpu": nil}, "stats (floor 2) imports gpu (floor 2)"},
		{"reading imports running", map[string][]string{"diagnose": {"loadgen"}, "loadgen": nil}, "diagnose reads results but imports loadgen"},
		{"listed edge", map[string][]string{"aggregate": {"gpu"}, "gpu": nil}, ""},
		{"shared imports a side", map[string][]string{"matrix": {"gpu"}, "gpu": nil}, "matrix is shared by both sides but imports gpu"},
		{"no floor", map[string][]string{"newpkg": nil}, "internal/newpkg has no floor"},
		{"no side", map[string][]string{"cli": nil}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			problems := strings.Join(checkLayers(tt.graph), "\n")
			if tt.want == "" && problems != "" || !strings.Contains(problems, tt.want) {
				t.Errorf("problems:\n%s\nwant one containing %q", problems, tt.want)
			}
		})
	}
}

// checkLayers lists every import of graph (package → the llmscale packages it imports) that
// breaks the floors or the sides.
func checkLayers(graph map[string][]string) []string {
	floor := map[string]int{}
	for i, pkgs := range floors {
		for _, p := range pkgs {
			floor[p] = i
		}
	}
	var problems []string
	for _, pkg := range slices.Sorted(mapKeys(graph)) {
		f, ok := floor[pkg]
		if !ok {
			problems = append(problems, fmt.Sprintf("internal/%s has no floor: add it to floors in cmd/llmscale/layers_test.go and to docs/architecture.md", pkg))
			continue
		}
		for _, imp := range graph[pkg] {
			g, ok := floor[imp]
			switch {
			case !ok:
				continue // reported as a package of its own
			case g >= f:
				problems = append(problems, fmt.Sprintf("%s (floor %d) imports %s (floor %d): a package imports only lower floors", pkg, f, imp, g))
			case slices.Contains(shared, pkg) && !slices.Contains(shared, imp):
				problems = append(problems, fmt.Sprintf("%s is shared by both sides but imports %s", pkg, imp))
			case slices.Contains(reading, pkg) && slices.Contains(running, imp) && readsRunning[[2]string{pkg, imp}] == "":
				problems = append(problems, fmt.Sprintf("%s reads results but imports %s, which runs experiments", pkg, imp))
			}
		}
	}
	return problems
}

func mapKeys(m map[string][]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// importGraph reads the non-test imports of every package under dir (internal/), keeping the
// llmscale ones by their name below internal/.
func importGraph(dir string) (map[string][]string, error) {
	const prefix = "github.com/llmscale/llmscale/internal/"
	graph := map[string][]string{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() || d.Name() == "testdata" {
			return err
		}
		pkg, err := build.Default.ImportDir(path, 0)
		var noGo *build.NoGoError
		if err != nil && !errors.As(err, &noGo) {
			return fmt.Errorf("%s: %w", path, err)
		}
		if err != nil {
			return nil
		}
		name, _ := filepath.Rel(dir, path)
		graph[filepath.ToSlash(name)] = nil
		for _, imp := range pkg.Imports {
			if after, ok := strings.CutPrefix(imp, prefix); ok {
				graph[filepath.ToSlash(name)] = append(graph[filepath.ToSlash(name)], after)
			}
		}
		return nil
	})
	return graph, err
}
