package results

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// RequestFiles lists the request files of an output folder: requests.parquet, then
// requests-<worker>.parquet by worker number. A folder that holds none is an error wrapping
// fs.ErrNotExist, as is one that does not exist.
func RequestFiles(dir string) ([]string, error) {
	paths, err := numberedFiles(dir, "requests.parquet", "requests-", ".parquet")
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("%s: no requests.parquet: %w", dir, os.ErrNotExist)
	}
	return paths, nil
}

// ServerMetricsFiles lists the server metrics of an output folder: server_metrics.parquet,
// then server_metrics-r<k>.parquet by replica. A folder that cannot be read lists none.
func ServerMetricsFiles(dir string) []string {
	paths, _ := numberedFiles(dir, ServerMetricsFile, "server_metrics-r", ".parquet")
	return paths
}

// numberedFiles lists the files of dir named exactly single, or prefix<k>suffix with k a
// number ≥ 0, single first and then by k (numerically: 2 before 10).
func numberedFiles(dir, single, prefix, suffix string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	type numbered struct {
		k    int
		path string
	}
	var found []numbered
	for _, e := range entries {
		name := e.Name()
		if name == single {
			found = append(found, numbered{-1, filepath.Join(dir, name)})
			continue
		}
		num, ok := strings.CutPrefix(name, prefix)
		num, ok2 := strings.CutSuffix(num, suffix)
		if k, err := strconv.Atoi(num); ok && ok2 && err == nil && k >= 0 {
			found = append(found, numbered{k, filepath.Join(dir, name)})
		}
	}
	slices.SortFunc(found, func(a, b numbered) int { return a.k - b.k })
	out := make([]string, len(found))
	for i, f := range found {
		out[i] = f.path
	}
	return out, nil
}
