package results

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/parquet-go/parquet-go"
)

// Column reads one column of a Parquet file into rows of type T: ReadColumns calls Set for
// every non-null value of a scalar column, or, for a list column (List true), gives each row its
// elements in one slice through SetList. Reading a few columns this way, value by value with
// no reflection and no allocation per row, is what keeps the aggregation of a large campaign
// fast; ReadParquet reconstructs every column of every row.
type Column[T any] struct {
	Path []string // the leaf's path: {"ttft_ns"}, or {"itl_ns", "list", "element"} for a list
	Set  func(row *T, v parquet.Value)
	// SetString receives a scalar string column's values; each distinct string is allocated
	// once per file (for columns of few values: phases, kinds, names).
	SetString func(row *T, v string)
	// SetInt64s and SetInt32s receive a list column's elements (int64 or int32 lists); the
	// slices share one array per row group, so a row must not append to them.
	SetInt64s func(row *T, v []int64)
	SetInt32s func(row *T, v []int32)
	// SetStrings receives a list of strings (a map's keys or values); each distinct string is
	// allocated once per file.
	SetStrings func(row *T, v []string)
	// Skip, when set, is asked once per row of a list column (columns are read in the order
	// given, so the row holds the columns before): true leaves the row's list unread.
	Skip func(row *T) bool
}

func (c Column[T]) isList() bool {
	return c.SetInt64s != nil || c.SetInt32s != nil || c.SetStrings != nil
}

// ListPath is the path of the elements of a list column written with the `list` tag.
func ListPath(name string) []string { return []string{name, "list", "element"} }

// ReadColumns reads the given columns of the Parquet file at path into one row of T per row of
// the file; columns the file lacks leave their fields zero, as ReadParquet does, so older files
// still read. A corrupted or truncated file is an error naming it.
func ReadColumns[T any](path string, cols []Column[T]) (rows []T, err error) {
	defer func() {
		if r := recover(); r != nil {
			rows, err = nil, fmt.Errorf("read %s: corrupted Parquet file: %v", path, r)
		}
	}()
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	pf, err := parquet.OpenFile(f, st.Size(), parquet.SkipBloomFilters(true), parquet.SkipPageIndex(true))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	rows = make([]T, pf.NumRows())
	var buf [512]parquet.Value
	strs := interner{}
	for _, c := range cols {
		leaf, ok := pf.Schema().Lookup(c.Path...)
		if !ok {
			continue
		}
		if err := readColumn(pf, leaf, c, rows, buf[:], strs); err != nil {
			return nil, fmt.Errorf("read %s: column %v: %w", path, c.Path, err)
		}
	}
	return rows, nil
}

// readColumn reads one leaf column of every row group into rows.
func readColumn[T any](pf *parquet.File, leaf parquet.LeafColumn, c Column[T], rows []T, buf []parquet.Value, strs interner) error {
	base := 0
	for _, rg := range pf.RowGroups() {
		chunk := rg.ColumnChunks()[leaf.ColumnIndex]
		l := listReader[T]{c: c, rows: rows[base:], maxDef: leaf.MaxDefinitionLevel, row: -1, strs: strs}
		if c.isList() {
			l.reserve(chunk.NumValues())
		}
		if err := eachValue(chunk, buf, func(v parquet.Value) { l.add(v) }); err != nil {
			return err
		}
		if l.row+1 != int(rg.NumRows()) {
			return fmt.Errorf("%d rows in a row group of %d", l.row+1, rg.NumRows())
		}
		l.flush()
		base += int(rg.NumRows())
	}
	return nil
}

// eachValue calls fn for every value of a column chunk, nulls included, in order.
func eachValue(chunk parquet.ColumnChunk, buf []parquet.Value, fn func(parquet.Value)) error {
	pages := chunk.Pages()
	defer pages.Close()
	for {
		page, err := pages.ReadPage()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		err = eachPageValue(page, buf, fn)
		parquet.Release(page)
		if err != nil {
			return err
		}
	}
}

func eachPageValue(page parquet.Page, buf []parquet.Value, fn func(parquet.Value)) error {
	values := page.Values()
	for {
		n, err := values.ReadValues(buf)
		for _, v := range buf[:n] {
			fn(v)
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// listReader assigns the values of one column chunk to rows: a value of repetition level 0
// starts the next row; list elements collect in one array for the row group.
type listReader[T any] struct {
	c      Column[T]
	rows   []T
	maxDef int
	row    int // the row the last value belonged to, -1 before the first
	skip   bool
	start  int // where the current row's elements begin in i64 or i32
	i64    []int64
	i32    []int32
	str    []string
	strs   interner
}

func (l *listReader[T]) reserve(n int64) {
	switch {
	case l.c.SetInt64s != nil:
		l.i64 = make([]int64, 0, n)
	case l.c.SetInt32s != nil:
		l.i32 = make([]int32, 0, n)
	default:
		l.str = make([]string, 0, n)
	}
}

func (l *listReader[T]) add(v parquet.Value) {
	if v.RepetitionLevel() == 0 {
		l.flush()
		l.row++
		if l.row >= len(l.rows) {
			panic(fmt.Sprintf("more than %d rows", len(l.rows)))
		}
		l.skip = l.c.Skip != nil && l.c.Skip(&l.rows[l.row])
	}
	switch {
	case l.skip || v.IsNull() || v.DefinitionLevel() < l.maxDef:
	case l.c.Set != nil:
		l.c.Set(&l.rows[l.row], v)
	case l.c.SetString != nil:
		l.c.SetString(&l.rows[l.row], l.strs.of(v.ByteArray()))
	case l.c.SetInt64s != nil:
		l.i64 = append(l.i64, v.Int64())
	case l.c.SetInt32s != nil:
		l.i32 = append(l.i32, v.Int32())
	default:
		l.str = append(l.str, l.strs.of(v.ByteArray()))
	}
}

// flush gives the current row its list elements.
func (l *listReader[T]) flush() {
	if l.row < 0 || !l.c.isList() {
		return
	}
	if l.c.SetInt64s != nil && len(l.i64) > l.start {
		l.c.SetInt64s(&l.rows[l.row], l.i64[l.start:len(l.i64):len(l.i64)])
		l.start = len(l.i64)
	}
	if l.c.SetInt32s != nil && len(l.i32) > l.start {
		l.c.SetInt32s(&l.rows[l.row], l.i32[l.start:len(l.i32):len(l.i32)])
		l.start = len(l.i32)
	}
	if l.c.SetStrings != nil && len(l.str) > l.start {
		l.c.SetStrings(&l.rows[l.row], l.str[l.start:len(l.str):len(l.str)])
		l.start = len(l.str)
	}
}

// interner gives one string per distinct byte sequence; looking up a known one allocates
// nothing.
type interner map[string]string

func (in interner) of(b []byte) string {
	if s, ok := in[string(b)]; ok {
		return s
	}
	if len(in) >= maxInterned {
		return string(b)
	}
	s := string(b)
	in[s] = s
	return s
}

// maxInterned bounds an interner: a column with more distinct values than this is not worth
// it, and a corrupted file must not grow the map without end.
const maxInterned = 1 << 16
