package results

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestScanParquet reads a file of several batches row by row, in order, with every column,
// and with a row type that names only some of them (the others are not read).
func TestScanParquet(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "rows.parquet")
	want := make([]row, 2*ScanBatch+3)
	for i := range want {
		want[i] = row{ID: string(rune('a' + i%26)), TTFTNs: int64(i), Value: float64(i) / 2, Gaps: []int64{int64(i)}}
	}
	if err := WriteParquet(path, want); err != nil {
		t.Fatal(err)
	}
	var got []row
	err := ScanParquet(path, func(r *row) {
		c := *r
		c.Gaps = append([]int64(nil), r.Gaps...) // fn must not keep the row's memory
		got = append(got, c)
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("scan (-want +got):\n%s", diff)
	}
	type ttftOnly struct {
		TTFTNs int64 `parquet:"ttft_ns"`
	}
	var sum int64
	if err := ScanParquet(path, func(r *ttftOnly) { sum += r.TTFTNs }); err != nil {
		t.Fatal(err)
	}
	if n := int64(len(want)); sum != n*(n-1)/2 {
		t.Errorf("projected scan: sum of ttft_ns %d, want %d", sum, n*(n-1)/2)
	}
}

// TestReadCorrupted: a truncated Parquet file is an error naming it from either reader,
// never a panic; a missing one is fs.ErrNotExist.
func TestReadCorrupted(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "requests.parquet")
	if err := WriteParquet(path, []Request{{ExperimentID: "e1", TTFTNs: 5, ITLNs: []int64{1, 2}}}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.parquet")
	for _, cut := range []int{4, len(data) / 2, len(data) - 9} {
		if err := os.WriteFile(bad, data[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
		errScan := ScanParquet(bad, func(*Request) {})
		_, errRead := ReadParquet[Request](bad)
		for _, err := range []error{errScan, errRead} {
			if err == nil || errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), bad) {
				t.Errorf("file cut at %d of %d bytes: %v", cut, len(data), err)
			}
		}
	}
	if err := ScanParquet(filepath.Join(dir, "none.parquet"), func(*Request) {}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v, want fs.ErrNotExist", err)
	}
}

// TestNumberedFiles lists request and server-metric files single first, then by number
// (2 before 10), leaving out names that only look alike.
func TestNumberedFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, name := range []string{"requests-10.parquet", "requests-2.parquet", "requests.parquet", "requests-x.parquet",
		"requests--1.parquet", "requests-3.csv", "server_metrics-r10.parquet", "server_metrics-r2.parquet",
		"server_metrics.parquet", "server_metrics-rx.parquet", "gpu.parquet"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	in := func(names ...string) []string {
		for i, n := range names {
			names[i] = filepath.Join(dir, n)
		}
		return names
	}
	got, err := RequestFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(in("requests.parquet", "requests-2.parquet", "requests-10.parquet"), got); diff != "" {
		t.Errorf("RequestFiles (-want +got):\n%s", diff)
	}
	want := in(ServerMetricsFile, "server_metrics-r2.parquet", "server_metrics-r10.parquet")
	if diff := cmp.Diff(want, ServerMetricsFiles(dir)); diff != "" {
		t.Errorf("ServerMetricsFiles (-want +got):\n%s", diff)
	}
	for _, d := range []string{t.TempDir(), filepath.Join(dir, "none")} {
		if _, err := RequestFiles(d); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("RequestFiles(%s): %v, want fs.ErrNotExist", d, err)
		}
		if got := ServerMetricsFiles(d); len(got) != 0 {
			t.Errorf("ServerMetricsFiles(%s) = %v", d, got)
		}
	}
}

// BenchmarkReadRequests reads a request file of 20,000 rows whole (ReadParquet) and a batch
// at a time (ScanParquet): compare B/op, the memory each keeps.
func BenchmarkReadRequests(b *testing.B) {
	path := filepath.Join(b.TempDir(), "requests.parquet")
	rows := make([]Request, 20_000)
	for i := range rows {
		rows[i] = Request{ExperimentID: "e1", Seq: int64(i), TTFTNs: int64(i), ITLNs: []int64{1, 2, 3}}
	}
	if err := WriteParquet(path, rows); err != nil {
		b.Fatal(err)
	}
	b.Run("ReadParquet", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ReadParquet[Request](path); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ScanParquet", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := ScanParquet(path, func(*Request) {}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
