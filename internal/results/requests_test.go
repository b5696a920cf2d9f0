package results

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/parquet-go/parquet-go"
)

func TestRequestsRoundTrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ok := Request{ExperimentID: "e1", WorkerID: 1, Seq: 3, Phase: PhaseMeasure, Target: "http://h:8000", User: -1,
		PromptIndex: 4, MaxTokens: 128, DueNs: 0, SentNs: 10, FirstTokenNs: 50, DoneNs: 90, EndNs: 95,
		StartUnixNs: 1767225600000000000, TTFTNs: 40, E2ENs: 80, TPOTNs: 20, ITLNs: []int64{20, 20},
		VLLMTTFTNs: 38, VLLMITLNs: []int64{2, 20, 20},
		ChunkTokens: []int32{1, 2, 1}, ChunkTokensSource: ChunkTokensCounted, Chunks: 3, PromptTokens: 12,
		OutputTokens: 3, TokensFromUsage: true, FinishReason: "length", HTTPStatus: 200, ResponseID: "cmpl-1"}
	failed := Request{ExperimentID: "e1", WorkerID: 0, Seq: 9, Phase: PhaseWarmup, DueNs: 5, EndNs: 7,
		ErrorKind: ErrorConnect, Error: "connection refused", ITLNs: []int64{}, VLLMITLNs: []int64{}, ChunkTokens: []int32{}}
	if err := WriteParquet(filepath.Join(dir, RequestsFile(1, 2)), []Request{ok}); err != nil {
		t.Fatal(err)
	}
	if err := WriteParquet(filepath.Join(dir, RequestsFile(0, 2)), []Request{failed}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "requests-x.parquet"), []byte("not ours"), 0o644)
	got, err := ReadRequestsDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Request{failed, ok}, got); diff != "" {
		t.Fatalf("round trip (-want +got):\n%s", diff)
	}
	if !ok.OK() || failed.OK() || ok.TTFT() != 40 || ok.E2E() != 80 || ok.SendLag() != 10 {
		t.Fatal("accessors disagree with the columns")
	}
}

// TestRequestsNulls checks that optional columns are null in the file when the event did
// not happen, so pandas and DuckDB see missing values rather than zeros.
func TestRequestsNulls(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "requests.parquet")
	if err := WriteParquet(path, []Request{{ErrorKind: ErrorConnect, EndNs: 3}}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"sent_ns", "first_token_ns", "done_ns", "ttft_ns", "e2e_ns", "tpot_ns"} {
		col, ok := pf.Schema().Lookup(name)
		if !ok {
			t.Fatalf("no column %s", name)
		}
		if !col.Node.Optional() {
			t.Errorf("column %s is not optional", name)
		}
		nulls := pf.Metadata().RowGroups[0].Columns[col.ColumnIndex].MetaData.Statistics.NullCount
		if nulls != 1 {
			t.Errorf("column %s: %d nulls, want 1", name, nulls)
		}
	}
}

func TestRequestsFileNames(t *testing.T) {
	t.Parallel()
	if RequestsFile(0, 1) != "requests.parquet" || RequestsFile(3, 4) != "requests-3.parquet" {
		t.Fatal("request file names")
	}
	if _, err := ReadRequestsDir(t.TempDir()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("empty folder: %v, want ErrNotExist", err)
	}
}
