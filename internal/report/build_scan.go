package report

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/parquet-go/parquet-go"

	"github.com/llmscale/llmscale/internal/results"
)

// scanBatch is how many rows a scan holds in memory at once.
const scanBatch = 512

// scanParquet calls fn for every row of a Parquet file written with row type T, a batch at a
// time, so that a file of any size is read in bounded memory. fn must not keep the row (its
// slices are reused). A corrupted file is an error naming it (parquet-go panics on some).
func scanParquet[T any](path string, fn func(*T)) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("read %s: corrupted Parquet file: %v", filepath.Base(path), r)
		}
	}()
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		return fmt.Errorf("read %s: %w", filepath.Base(path), err)
	}
	r := parquet.NewGenericReader[T](pf)
	defer r.Close()
	buf := make([]T, scanBatch)
	for {
		clear(buf)
		n, err := r.Read(buf)
		for i := range n {
			fn(&buf[i])
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", filepath.Base(path), err)
		}
	}
}

// filesIn lists the files of dir named exactly single, or prefix<k>suffix with k a number
// (requests-<k>.parquet, server_metrics-r<k>.parquet), sorted by k (single first).
func filesIn(dir, single, prefix, suffix string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
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
	return out
}

func requestFiles(dir string) []string {
	return filesIn(dir, "requests.parquet", "requests-", ".parquet")
}

func serverMetricsFiles(dir string) []string {
	return filesIn(dir, results.ServerMetricsFile, "server_metrics-r", ".parquet")
}

// maxLatencySamples bounds the latencies kept per distribution and experiment: beyond it a
// uniform reservoir sample stands for all (the CDF keeps at most MaxCDFPoints quantiles, which
// a sample of this size estimates to within a fraction of a percent).
const maxLatencySamples = 100_000

// reservoir keeps a uniform sample of at most limit values of a stream (Vitter's algorithm
// R), with a fixed seed so the same files give the same report.
type reservoir struct {
	limit int
	seen  int64
	vals  []float64
	rng   *rand.Rand
}

func newReservoir(limit int, seed uint64) *reservoir {
	return &reservoir{limit: limit, rng: rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))}
}

func (r *reservoir) add(v float64) {
	r.seen++
	if len(r.vals) < r.limit {
		r.vals = append(r.vals, v)
		return
	}
	if j := r.rng.Int64N(r.seen); j < int64(r.limit) {
		r.vals[j] = v
	}
}
