package aggregate

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/llmscale/llmscale/internal/gpu"
	"github.com/llmscale/llmscale/internal/results"
)

// Files written under results/agg/.
const (
	SummaryParquet = "summary_metrics.parquet"
	SummaryCSV     = "summary_metrics.csv"
)

// Tree aggregates every experiment of a results tree (results/raw/*/experiment.json), in
// folder order. An experiment whose files cannot be read still gets its row (see Experiment);
// its error is returned in errs, one per experiment, and the others are aggregated as usual.
// err is set only when the tree itself cannot be listed.
func Tree(root string) (rows []Row, errs []error, err error) {
	dirs, err := listExperimentDirs(root)
	if err != nil {
		return nil, nil, err
	}
	tc := TreeInfo{Interconnect: topologyInterconnect(root)}
	for _, dir := range dirs {
		row, err := Experiment(dir, tc)
		rows = append(rows, row)
		if err != nil {
			errs = append(errs, err)
		}
	}
	MarkKnees(rows)
	return rows, errs, nil
}

// listExperimentDirs lists the folders of raw/ that hold an experiment.json, or, for a folder
// whose experiment.json is missing, any request file (a partial experiment, reported as such).
func listExperimentDirs(root string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(root, results.RawDir))
	if err != nil {
		return nil, fmt.Errorf("no experiments in %s: %w", root, err)
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(root, results.RawDir, e.Name())
		if _, err := os.Stat(filepath.Join(dir, results.ExperimentFile)); err == nil || countRequestFiles(dir) > 0 {
			out = append(out, dir)
		}
	}
	return out, nil
}

// topologyInterconnect reads the interconnect from results/topology.json, "" when absent.
func topologyInterconnect(root string) string {
	var t gpu.Topology
	if err := results.ReadJSON(filepath.Join(root, results.TopologyFile), &t); err != nil {
		return ""
	}
	return t.Interconnect
}

// Write writes rows to dir (results/agg) as summary_metrics.parquet and summary_metrics.csv,
// each atomically.
func Write(dir string, rows []Row) error {
	if err := results.WriteParquet(filepath.Join(dir, SummaryParquet), rows); err != nil {
		return err
	}
	return results.WriteAtomic(filepath.Join(dir, SummaryCSV), func(w io.Writer) error { return WriteCSV(w, rows) })
}

// Read reads summary_metrics.parquet from dir.
func Read(dir string) ([]Row, error) {
	return results.ReadParquet[Row](filepath.Join(dir, SummaryParquet))
}

// Columns lists the column names of summary_metrics, in order.
func Columns() []string { return results.Columns[Row]() }

// WriteCSV writes rows as CSV with a header of the column names; null numbers are empty
// cells, booleans true/false, floats in the shortest form that reads back exactly.
func WriteCSV(w io.Writer, rows []Row) error { return results.WriteCSV(w, rows) }
