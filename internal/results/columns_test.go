package results

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// timingsOf keeps of full rows only the columns ReadRequestTimings reads.
func timingsOf(rows []Request) []Request {
	out := make([]Request, len(rows))
	for i, r := range rows {
		out[i] = Request{WorkerID: r.WorkerID, Seq: r.Seq, Phase: r.Phase, DueNs: r.DueNs, SentNs: r.SentNs, EndNs: r.EndNs,
			TTFTNs: r.TTFTNs, E2ENs: r.E2ENs, TPOTNs: r.TPOTNs, ITLNs: r.ITLNs, VLLMTTFTNs: r.VLLMTTFTNs, VLLMITLNs: r.VLLMITLNs,
			ChunkTokens: r.ChunkTokens, PromptTokens: r.PromptTokens, OutputTokens: r.OutputTokens,
			HTTPStatus: r.HTTPStatus, ErrorKind: r.ErrorKind}
	}
	return out
}

// randomRequests are n rows of every kind: succeeded with gaps (some with vLLM's own gaps),
// failed, never sent, empty answers.
func randomRequests(rng *rand.Rand, worker int32, n int) []Request {
	rows := make([]Request, n)
	for i := range rows {
		r := Request{ExperimentID: "e", WorkerID: worker, Seq: int64(i), Phase: []string{PhaseWarmup, PhaseMeasure, PhaseCooldown}[rng.IntN(3)],
			Target: "http://h", DueNs: rng.Int64N(1e9), EndNs: rng.Int64N(1e10), FinishReason: "stop", ResponseID: fmt.Sprint("id-", i)}
		switch rng.IntN(5) {
		case 0:
			r.ErrorKind, r.Error = ErrorNotSent, "cap"
		case 1:
			r.ErrorKind, r.Error, r.HTTPStatus, r.SentNs = ErrorHTTP, "503", 503, r.DueNs+5
		default:
			out := rng.IntN(40)
			r.SentNs, r.TTFTNs, r.E2ENs, r.TPOTNs = r.DueNs+rng.Int64N(100), rng.Int64N(1e8), rng.Int64N(1e9), rng.Int64N(1e7)
			r.OutputTokens, r.PromptTokens, r.HTTPStatus = int32(out), int32(rng.IntN(900)), 200
			for k := range out {
				r.ChunkTokens = append(r.ChunkTokens, int32(1+rng.IntN(3)))
				if k > 0 {
					r.ITLNs = append(r.ITLNs, rng.Int64N(1e7))
				}
			}
			if rng.IntN(4) == 0 && out > 0 {
				r.VLLMTTFTNs, r.VLLMITLNs = r.TTFTNs-5, append([]int64{5}, r.ITLNs...)
			}
		}
		rows[i] = r
	}
	return rows
}

// writeInBatches writes rows a few at a time, as a run does, so the file has several row groups.
func writeInBatches[T any](t *testing.T, path string, rows []T, batch int) {
	t.Helper()
	w, err := NewParquetWriter[T](path)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(rows); i += batch {
		if err := w.Write(rows[i:min(i+batch, len(rows))]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestReadRequestTimings: the columns read alone equal the same columns of whole rows, over
// several row groups and two workers' files, lists and nulls included.
func TestReadRequestTimings(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		sizes []int // rows of each worker's file
	}{
		{"one file, one row group", []int{100}},
		{"one file, row groups", []int{RowGroupRows + 17}},
		{"two workers", []int{300, 700}},
		{"an empty file", []int{0}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			rng := rand.New(rand.NewPCG(1, uint64(len(tt.sizes))))
			for k, n := range tt.sizes {
				writeInBatches(t, filepath.Join(dir, RequestsFile(k, len(tt.sizes))), randomRequests(rng, int32(k), n), 97)
			}
			full, err := ReadRequestsDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ReadRequestTimings(dir)
			if err != nil {
				t.Fatal(err)
			}
			sameRows(t, "timings", timingsOf(full), got)
		})
	}
}

// TestReadServerMetricSeries: the series columns read alone equal those of whole rows, label
// maps included, for generated rows and for the recorded files of testdata/h100.
func TestReadServerMetricSeries(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), ServerMetricsFile)
	var rows []ServerMetric
	for k := range 2000 {
		labels, m := "", map[string]string(nil)
		if e := k % 7; e > 0 {
			labels, m = fmt.Sprintf("engine=%d,model_name=m", e), map[string]string{"engine": fmt.Sprint(e), "model_name": "m"}
		}
		rows = append(rows, ServerMetric{ExpID: "e", Phase: PhaseDuring, Scrape: int64(k / 7), TimeUnixNs: int64(k / 7 * 1e9),
			Name: fmt.Sprintf("vllm:m%d", k%3), OriginalName: "x", Type: "gauge", Labels: labels, LabelMap: m, Value: float64(k)})
	}
	writeInBatches(t, path, rows, 700)
	paths, _ := filepath.Glob("../../testdata/h100/results/raw/*/" + ServerMetricsFile)
	if len(paths) < 2 {
		t.Fatal("no server_metrics.parquet under testdata/h100")
	}
	paths = paths[:2] // recorded by a campaign: each 16,000 rows
	for _, p := range append(paths, path) {
		full, err := ReadParquet[ServerMetric](p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ReadServerMetricSeries(p)
		if err != nil {
			t.Fatal(err)
		}
		want := make([]ServerMetric, len(full))
		for i, r := range full {
			want[i] = ServerMetric{Phase: r.Phase, Scrape: r.Scrape, TimeUnixNs: r.TimeUnixNs, Name: r.Name, Type: r.Type,
				Labels: r.Labels, LabelMap: r.LabelMap, Value: r.Value}
		}
		sameRows(t, p, want, got)
	}
}

// TestReadColumnsBadFiles: a file that is not Parquet, or a truncated one, is an error naming
// it, never a panic; a column the file lacks stays zero.
func TestReadColumnsBadFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "good.parquet")
	writeInBatches(t, good, randomRequests(rand.New(rand.NewPCG(2, 2)), 0, 50), 10)
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string][]byte{
		"garbage.parquet":   []byte("not a parquet file at all"),
		"truncated.parquet": data[:len(data)/2],
		"empty.parquet":     nil,
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, body, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadColumns(p, timingColumns()); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: error %v, want one naming the file", name, err)
		}
	}
	type narrow struct{ Seq, Missing int64 }
	rows, err := ReadColumns(good, []Column[narrow]{
		{Path: []string{"seq"}, Int64: func(r *narrow, v int64) { r.Seq = v }},
		{Path: []string{"no_such_column"}, Int64: func(r *narrow, _ int64) { r.Missing = 1 }},
	})
	if err != nil || len(rows) != 50 || rows[49].Seq != 49 || rows[10].Missing != 0 {
		t.Fatalf("narrow read: %d rows, last %+v, err %v", len(rows), rows[len(rows)-1], err)
	}
}

// sameRows fails with the first row that differs (cmp over whole files is slow).
func sameRows[T any](t *testing.T, what string, want, got []T) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("%s: %d rows, want %d", what, len(got), len(want))
	}
	for i := range want {
		if diff := cmp.Diff(want[i], got[i], cmpopts.EquateEmpty(), cmpopts.EquateNaNs()); diff != "" {
			t.Fatalf("%s: row %d (-from whole rows +read alone):\n%s", what, i, diff)
		}
	}
}
