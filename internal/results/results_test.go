package results

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type row struct {
	ID     string  `parquet:"id"`
	TTFTNs int64   `parquet:"ttft_ns"`
	Value  float64 `parquet:"value"`
	Gaps   []int64 `parquet:"gaps_ns,list"`
}

func TestParquetRoundTrip(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sub", "rows.parquet")
	want := []row{{ID: "a", TTFTNs: 5, Value: 1.5, Gaps: []int64{1, 2}}, {ID: "b", TTFTNs: 7, Gaps: []int64{}}}
	if err := WriteParquet(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadParquet[row](path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("round trip (-want +got):\n%s", diff)
	}
}

func TestAtomicFileAbortLeavesOldFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "experiment.json")
	if err := WriteJSON(path, map[string]string{"status": "done"}); err != nil {
		t.Fatal(err)
	}
	f, err := CreateAtomic(path)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("half a fi")
	f.Abort()
	var got map[string]string
	if err := ReadJSON(path, &got); err != nil {
		t.Fatal(err)
	}
	if got["status"] != "done" {
		t.Fatalf("after Abort the file holds %v, want the old content", got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("folder holds %d entries after Abort, want only the file", len(entries))
	}
}

func TestWriteAtomicFailureKeepsNothing(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "x.json")
	boom := errors.New("boom")
	if err := WriteAtomic(path, func(w io.Writer) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("WriteAtomic error = %v, want boom", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("file exists after a failed write: %v", err)
	}
}
