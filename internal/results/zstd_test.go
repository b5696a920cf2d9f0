package results

import (
	"path/filepath"
	"runtime"
	"testing"
)

// writerHeap is the heap a ParquetWriter of requests keeps, after a GC, once it has written
// two row groups of 128-token records and holds a third half full (the middle of a run); the
// file is then closed and read back.
func writerHeap(tb testing.TB) uint64 {
	tb.Helper()
	rows := make([]Request, RowGroupRows/2)
	for i := range rows {
		rows[i] = Request{ExperimentID: "exp", Seq: int64(i), Phase: PhaseMeasure, HTTPStatus: 200, OutputTokens: 128,
			ITLNs: make([]int64, 127), ChunkTokens: make([]int32, 128)}
		for k := range rows[i].ITLNs {
			rows[i].ITLNs[k] = int64(20_000_000 + k*997 + i*13)
		}
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	path := filepath.Join(tb.TempDir(), "requests.parquet")
	w, err := NewParquetWriter[Request](path)
	if err != nil {
		tb.Fatal(err)
	}
	defer w.Abort()
	for range 5 {
		if err := w.Write(rows); err != nil {
			tb.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(rows)
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	got, err := ReadParquet[Request](path)
	if err != nil || len(got) != 5*len(rows) || got[len(got)-1].ITLNs[126] != rows[len(rows)-1].ITLNs[126] {
		tb.Fatalf("read back %d rows (%v), want %d, the same values", len(got), err, 5*len(rows))
	}
	return after.HeapAlloc - min(after.HeapAlloc, before.HeapAlloc)
}

// BenchmarkParquetWriterMemory reports the heap an open request writer keeps (its page
// buffers and its zstd encoder).
//
//	go test ./internal/results -run '^$' -bench ParquetWriterMemory -benchtime 1x -count 3
func BenchmarkParquetWriterMemory(b *testing.B) {
	var heap uint64
	for b.Loop() {
		heap = writerHeap(b)
	}
	b.ReportMetric(float64(heap)/(1<<20), "MiB-kept")
}

// TestParquetWriterMemory: an open request writer keeps a few MiB (45 MiB with parquet-go's
// own zstd codec, whose encoder holds 16 MiB of history per pooled copy), and its file reads
// back.
func TestParquetWriterMemory(t *testing.T) {
	if heap := writerHeap(t); heap > 24<<20 {
		t.Errorf("an open request writer keeps %.1f MiB; want under 24", float64(heap)/(1<<20))
	}
}
