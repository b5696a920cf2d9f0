package results

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/parquet-go/parquet-go"
)

// ParquetWriter streams rows of type T into a zstd-compressed Parquet file that appears under
// its name only on Close. Row types use parquet struct tags; column names carry their unit
// (ttft_ns, power_w) and pandas, polars and DuckDB read the files as they are.
type ParquetWriter[T any] struct {
	file    *AtomicFile
	w       *parquet.GenericWriter[T]
	rows    int64
	pending int // rows not yet flushed as a row group
}

// RowGroupRows is how many rows a ParquetWriter buffers before writing them out as one row
// group: a writer's memory is bounded by a row group, whatever the length of the run.
const RowGroupRows = 4096

// NewParquetWriter starts writing path.
func NewParquetWriter[T any](path string) (*ParquetWriter[T], error) {
	f, err := CreateAtomic(path)
	if err != nil {
		return nil, err
	}
	w := parquet.NewGenericWriter[T](f, parquet.Compression(&zstdCodec{}))
	return &ParquetWriter[T]{file: f, w: w}, nil
}

// Write appends rows.
func (p *ParquetWriter[T]) Write(rows []T) error {
	n, err := p.w.Write(rows)
	p.rows += int64(n)
	p.pending += n
	if err != nil {
		return fmt.Errorf("write %s: %w", p.file.path, err)
	}
	if p.pending >= RowGroupRows {
		p.pending = 0
		if err := p.w.Flush(); err != nil {
			return fmt.Errorf("write %s: %w", p.file.path, err)
		}
	}
	return nil
}

// Rows is how many rows were written so far.
func (p *ParquetWriter[T]) Rows() int64 { return p.rows }

// Close finishes the file and moves it into place.
func (p *ParquetWriter[T]) Close() error {
	if err := p.w.Close(); err != nil {
		p.file.Abort()
		return fmt.Errorf("write %s: %w", p.file.path, err)
	}
	return p.file.Commit()
}

// Abort drops the file.
func (p *ParquetWriter[T]) Abort() { p.file.Abort() }

// WriteParquet writes all rows to path atomically.
func WriteParquet[T any](path string, rows []T) error {
	w, err := NewParquetWriter[T](path)
	if err != nil {
		return err
	}
	if err := w.Write(rows); err != nil {
		w.Abort()
		return err
	}
	return w.Close()
}

// ReadParquet reads every row of a Parquet file written with the same row type. Columns the
// file lacks are left zero, so older files still read. A corrupted or truncated file is an
// error naming it (parquet-go panics on some malformed files; the panic is turned into the
// error). Tests must not call it inside a testing/synctest bubble: parquet-go's zstd decoders
// are shared, and one created in a bubble kills the next bubble that reads a file.
func ReadParquet[T any](path string) (rows []T, err error) {
	err = readParquet(path, func(r *parquet.GenericReader[T]) error {
		rows = make([]T, r.NumRows())
		n, err := r.Read(rows)
		rows = rows[:n]
		if errors.Is(err, io.EOF) {
			return nil
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return rows, nil
}

// ScanBatch is how many rows ScanParquet holds in memory at once.
const ScanBatch = 512

// ScanParquet calls fn for every row of a Parquet file written with row type T, ScanBatch
// rows at a time, so that a file of any size is read in bounded memory. fn must not keep the
// row: its memory is reused for the next batch. Missing columns and corrupted files are
// handled as by ReadParquet.
func ScanParquet[T any](path string, fn func(*T)) error {
	return readParquet(path, func(r *parquet.GenericReader[T]) error {
		buf := make([]T, ScanBatch)
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
				return err
			}
		}
	})
}

// readParquet hands the rows of the Parquet file at path to read, through a generic reader
// of row type T.
func readParquet[T any](path string, read func(*parquet.GenericReader[T]) error) error {
	return withParquetFile(path, func(pf *parquet.File) error {
		r := parquet.NewGenericReader[T](pf)
		defer r.Close()
		return read(r)
	})
}

// withParquetFile opens the Parquet file at path and hands it to read: the one place that
// opens Parquet files, for rows (ReadParquet, ScanParquet) and columns (ReadColumns). It
// turns parquet-go's panics on malformed files into an error, and names the file in every
// error but a missing one's (that stays fs.ErrNotExist).
func withParquetFile(path string, read func(*parquet.File) error, opts ...parquet.FileOption) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("read %s: corrupted Parquet file: %v", path, r)
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
	pf, err := parquet.OpenFile(f, st.Size(), opts...)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if err := read(pf); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}
