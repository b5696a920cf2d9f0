package aggregate

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"

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
// err is set only when the tree itself cannot be listed. Experiments are aggregated in
// parallel, one per core (GOMAXPROCS) at a time; rows and errors keep folder order.
func Tree(root string) (rows []Row, errs []error, err error) {
	dirs, err := listExperimentDirs(root)
	if err != nil {
		return nil, nil, err
	}
	tc := TreeInfo{Interconnect: topologyInterconnect(root)}
	rows = make([]Row, len(dirs))
	each := make([]error, len(dirs))
	parallel(len(dirs), runtime.GOMAXPROCS(0), func(i int) { rows[i], each[i] = experimentSafe(dirs[i], tc) })
	for _, e := range each {
		if e != nil {
			errs = append(errs, e)
		}
	}
	MarkKnees(rows)
	return rows, errs, nil
}

// experimentSafe is Experiment that turns a panic (a defect, never expected) into the
// experiment's error row, as the command's top level would have: it runs on a worker
// goroutine, where a panic would end the process.
func experimentSafe(dir string, tc TreeInfo) (row Row, err error) {
	defer func() {
		if p := recover(); p != nil {
			row = Row{ExpID: filepath.Base(dir), Status: StatusError, FailureReason: fmt.Sprintf("aggregate failed: %v", p)}
			err = fmt.Errorf("%s: aggregate failed: %v", row.ExpID, p)
		}
	}()
	return Experiment(dir, tc)
}

// parallel calls fn(0) … fn(n-1) on at most workers goroutines and returns when all are done.
func parallel(n, workers int, fn func(i int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(max(workers, 1), n) {
		wg.Go(func() {
			for i := range next {
				fn(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
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
