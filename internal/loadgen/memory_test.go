package loadgen

import (
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/stats"
)

// feedRecords passes n records of 128-token answers through what a run keeps of them: the
// summary's accumulator (spilled to its temporary files, as a run does) and the Parquet sink. It returns
// the heap in use after n records, the sink still open, as in the middle of a run, and what
// the end-of-run summary then allocates (bytes; 0 unless summarize).
func feedRecords(tb testing.TB, n int, summarize bool) (heap, summary uint64) {
	tb.Helper()
	dir := tb.TempDir()
	sink, err := NewParquetSink(dir, 0, 1)
	if err != nil {
		tb.Fatal(err)
	}
	defer sink.Abort()
	var acc stats.Accumulator
	if err := acc.Spill(dir); err != nil {
		tb.Fatal(err)
	}
	defer acc.Close()
	batch := make([]results.Request, 256)
	for i := range batch {
		batch[i] = results.Request{ExperimentID: "exp", Phase: results.PhaseMeasure, HTTPStatus: 200, PromptTokens: 512,
			OutputTokens: 128, Chunks: 128, ITLNs: make([]int64, 127), ChunkTokens: make([]int32, 128)}
		for k := range batch[i].ITLNs {
			batch[i].ITLNs[k] = int64(20_000_000 + k*1000 + i)
		}
	}
	fed := 0 // n rounded up to whole batches
	for done := 0; done < n; done += len(batch) {
		fed += len(batch)
		for i := range batch {
			batch[i].Seq = int64(done + i)
			batch[i].SentNs, batch[i].EndNs = int64(done+i)*1e6, int64(done+i)*1e6+5e9
			// Each response has its own slices, as a real run's records do.
			batch[i].ITLNs, batch[i].ChunkTokens = slices.Clone(batch[i].ITLNs), slices.Clone(batch[i].ChunkTokens)
			acc.Add(&batch[i])
		}
		if err := sink.Write(batch); err != nil {
			tb.Fatal(err)
		}
	}
	runtime.GC()
	runtime.GC() // a second collection empties the sync.Pools' victim caches, which blur the figures
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	heap = m.HeapAlloc // before the summary, whose garbage is not yet collected
	if summarize {
		before := m.TotalAlloc
		if s, _ := acc.Summarize(stats.Span{From: 0, To: time.Duration(n) * time.Hour}); s.ITL.N != 127*fed {
			tb.Fatalf("summary of %d gaps, want %d", s.ITL.N, 127*fed)
		}
		runtime.ReadMemStats(&m)
		summary = m.TotalAlloc - before
	}
	runtime.KeepAlive(&acc)
	return heap, summary
}

// TestRecordMemoryIsFlat: what a run keeps per request must not grow with the answer nor
// with the run. Before the records streamed in row groups and the chunk gaps went to disk, a
// record of a 128-token answer cost over 5 KB for the whole run; then the summary still kept
// ~90 bytes of each (its timings and token counts, for exact percentiles); now they go to a
// temporary file too, and what is left is the Parquet sink's (~2 bytes a record here, ~9 at
// 200,000 records; without the sink the accumulator's is 0). Heap is compared at two sizes
// and the growth per record bounded; no time is asserted. Not parallel: other tests'
// allocations would blur the heap figures.
func TestRecordMemoryIsFlat(t *testing.T) {
	small, _ := feedRecords(t, 20_000, false)
	large, _ := feedRecords(t, 100_000, false)
	perRecord := (float64(large) - float64(small)) / 80_000
	t.Logf("heap %d KB after 20k records, %d KB after 100k: %.0f bytes per record", small>>10, large>>10, perRecord)
	if perRecord > 16 {
		t.Errorf("each request record keeps %.0f bytes for the whole run, want at most 16", perRecord)
	}
}

// BenchmarkRecordMemory reports what a run keeps per request record (bytes/record), and what
// the end-of-run summary of 200,000 records (read back from the temporary files: 25 M chunk
// gaps) allocates (MB-summary); the figures in docs/performance.md come from it.
//
//	go test ./internal/loadgen -run '^$' -bench RecordMemory -benchtime 1x -count 3
func BenchmarkRecordMemory(b *testing.B) {
	for b.Loop() {
		small, _ := feedRecords(b, 20_000, false)
		large, summary := feedRecords(b, 200_000, true)
		b.ReportMetric((float64(large)-float64(small))/180_000, "bytes/record")
		b.ReportMetric(float64(large)/(1<<20), "MB@200k")
		b.ReportMetric(float64(summary)/(1<<20), "MB-summary")
	}
}
