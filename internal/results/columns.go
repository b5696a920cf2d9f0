package results

import (
	"errors"
	"fmt"
	"io"

	"github.com/parquet-go/parquet-go"
)

// Column reads one column of a Parquet file into rows of type T. Exactly one setter is set,
// by the column's type: a scalar column calls it for every non-null value, a list column
// gives each row its elements in one slice (slices share one array per row group, so a row
// must not append to them). ReadColumns decodes each page's values as one typed slice and
// assigns them with no reflection and no allocation per row — what keeps the aggregation of a
// large campaign fast; ReadParquet reconstructs every column of every row.
type Column[T any] struct {
	Path []string // the leaf's path: {"ttft_ns"}, or ListPath("itl_ns") for a list

	Int64   func(row *T, v int64)
	Int32   func(row *T, v int32)
	Float64 func(row *T, v float64)
	// String: each distinct string is allocated once per file, so it suits columns of few
	// values (phases, kinds, names, labels).
	String func(row *T, v string)

	Int64s  func(row *T, v []int64)
	Int32s  func(row *T, v []int32)
	Strings func(row *T, v []string)

	// Skip, when set, is asked once per row (columns are read in the order given, so the row
	// holds the columns before): true leaves the row's value or list unread.
	Skip func(row *T) bool
}

func (c Column[T]) isList() bool { return c.Int64s != nil || c.Int32s != nil || c.Strings != nil }

// Int64Field, Int32Field and StringField are the columns of a flat field: name's value is
// stored where field points in the row.
func Int64Field[T any](name string, field func(*T) *int64) Column[T] {
	return Column[T]{Path: []string{name}, Int64: func(r *T, v int64) { *field(r) = v }}
}

func Int32Field[T any](name string, field func(*T) *int32) Column[T] {
	return Column[T]{Path: []string{name}, Int32: func(r *T, v int32) { *field(r) = v }}
}

func StringField[T any](name string, field func(*T) *string) Column[T] {
	return Column[T]{Path: []string{name}, String: func(r *T, v string) { *field(r) = v }}
}

// ListPath is the path of the elements of a list column written with the `list` tag.
func ListPath(name string) []string { return []string{name, "list", "element"} }

// ReadColumns reads the given columns of the Parquet file at path into one row of T per row of
// the file; columns the file lacks leave their fields zero, as ReadParquet does, so older files
// still read. A corrupted or truncated file, or a column of another type than its setter, is
// an error naming the file.
func ReadColumns[T any](path string, cols []Column[T]) (rows []T, err error) {
	err = withParquetFile(path, func(pf *parquet.File) error {
		rows = make([]T, pf.NumRows())
		strs := interner{}
		for _, c := range cols {
			leaf, ok := pf.Schema().Lookup(c.Path...)
			if !ok {
				continue
			}
			if err := readColumn(pf, leaf, c, rows, strs); err != nil {
				return fmt.Errorf("column %v: %w", c.Path, err)
			}
		}
		return nil
	}, parquet.SkipBloomFilters(true), parquet.SkipPageIndex(true))
	if err != nil {
		return nil, err
	}
	return rows, nil
}

// readColumn reads one leaf column of every row group into rows.
func readColumn[T any](pf *parquet.File, leaf parquet.LeafColumn, c Column[T], rows []T, strs interner) error {
	base := 0
	for _, rg := range pf.RowGroups() {
		chunk := rg.ColumnChunks()[leaf.ColumnIndex]
		r := columnReader[T]{c: c, rows: rows[base:], maxDef: leaf.MaxDefinitionLevel, row: -1, strs: strs}
		if c.isList() {
			r.reserve(chunk.NumValues())
		}
		if err := r.readChunk(chunk); err != nil {
			return err
		}
		if r.row+1 != int(rg.NumRows()) {
			return fmt.Errorf("%d rows in a row group of %d", r.row+1, rg.NumRows())
		}
		r.flush()
		base += int(rg.NumRows())
	}
	return nil
}

// columnReader assigns the values of one column chunk to rows, a page at a time: a value of
// repetition level 0 (every value, in a flat column) starts the next row; list elements collect
// in one array for the row group.
type columnReader[T any] struct {
	c      Column[T]
	rows   []T
	maxDef int
	row    int // the row the last value belonged to, -1 before the first
	skip   bool
	start  int // where the current row's elements begin in i64, i32 or str
	i64    []int64
	i32    []int32
	str    []string
	strs   interner

	page pageData // the page being read
	dict parquet.Dictionary
	dstr []string // the dictionary's strings, by index
}

// pageData is one page's non-null values, one of the slices set.
type pageData struct {
	i64   []int64
	i32   []int32
	f64   []float64
	idx   []int32 // dictionary indexes
	bytes []byte  // byte arrays: bytes[offs[k]:offs[k+1]]
	offs  []uint32
}

func (r *columnReader[T]) reserve(n int64) {
	switch {
	case r.c.Int64s != nil:
		r.i64 = make([]int64, 0, n)
	case r.c.Int32s != nil:
		r.i32 = make([]int32, 0, n)
	default:
		r.str = make([]string, 0, n)
	}
}

func (r *columnReader[T]) readChunk(chunk parquet.ColumnChunk) error {
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
		r.readPage(page)
		parquet.Release(page)
	}
}

// readPage walks a page's levels: rows start at repetition level 0, values are present at the
// maximum definition level (a flat required column has neither: one value a row).
func (r *columnReader[T]) readPage(page parquet.Page) {
	r.load(page)
	reps, defs := page.RepetitionLevels(), page.DefinitionLevels()
	k := 0
	for j := range int(page.NumValues()) {
		if len(reps) == 0 || reps[j] == 0 {
			r.nextRow()
		}
		if len(defs) > 0 && int(defs[j]) < r.maxDef {
			continue
		}
		if !r.skip {
			r.put(k)
		}
		k++
	}
}

func (r *columnReader[T]) nextRow() {
	r.flush()
	r.row++
	if r.row >= len(r.rows) {
		panic(fmt.Sprintf("more than %d rows", len(r.rows)))
	}
	r.skip = r.c.Skip != nil && r.c.Skip(&r.rows[r.row])
}

// load takes a page's values as one typed slice; a dictionary page's strings are made once.
func (r *columnReader[T]) load(page parquet.Page) {
	data := page.Data()
	p := pageData{}
	switch d := page.Dictionary(); {
	case d != nil:
		p.idx = data.Int32()
		if d != r.dict {
			r.dict, r.dstr = d, r.dictStrings(d)
		}
	case r.c.Int64 != nil || r.c.Int64s != nil:
		p.i64 = data.Int64()
	case r.c.Int32 != nil || r.c.Int32s != nil:
		p.i32 = data.Int32()
	case r.c.Float64 != nil:
		p.f64 = data.Double()
	default:
		p.bytes, p.offs = data.ByteArray()
	}
	r.page = p
}

// dictStrings are a dictionary's strings, for string columns (nil for others: a dictionary
// of numbers is read through Index).
func (r *columnReader[T]) dictStrings(d parquet.Dictionary) []string {
	if r.c.String == nil && r.c.Strings == nil {
		return nil
	}
	data := d.Page().Data()
	bytes, offs := data.ByteArray()
	out := make([]string, d.Len())
	for i := range out {
		out[i] = r.strs.of(bytes[offs[i]:offs[i+1]])
	}
	return out
}

// put gives the row value k of the page.
func (r *columnReader[T]) put(k int) {
	row, p := &r.rows[r.row], &r.page
	if p.idx != nil && r.dstr == nil {
		r.putValue(row, r.dict.Index(p.idx[k]))
		return
	}
	switch c := &r.c; {
	case c.Int64 != nil:
		c.Int64(row, p.i64[k])
	case c.Int32 != nil:
		c.Int32(row, p.i32[k])
	case c.Float64 != nil:
		c.Float64(row, p.f64[k])
	case c.String != nil:
		c.String(row, r.stringAt(k))
	case c.Int64s != nil:
		r.i64 = append(r.i64, p.i64[k])
	case c.Int32s != nil:
		r.i32 = append(r.i32, p.i32[k])
	default:
		r.str = append(r.str, r.stringAt(k))
	}
}

// putValue gives the row a value of a dictionary of numbers (rare: llmscale writes none).
func (r *columnReader[T]) putValue(row *T, v parquet.Value) {
	switch c := &r.c; {
	case c.Int64 != nil:
		c.Int64(row, v.Int64())
	case c.Int32 != nil:
		c.Int32(row, v.Int32())
	case c.Float64 != nil:
		c.Float64(row, v.Double())
	case c.Int64s != nil:
		r.i64 = append(r.i64, v.Int64())
	case c.Int32s != nil:
		r.i32 = append(r.i32, v.Int32())
	}
}

func (r *columnReader[T]) stringAt(k int) string {
	if p := &r.page; p.idx != nil {
		return r.dstr[p.idx[k]]
	}
	return r.strs.of(r.page.bytes[r.page.offs[k]:r.page.offs[k+1]])
}

// flush gives the current row its list elements.
func (r *columnReader[T]) flush() {
	if r.row < 0 || !r.c.isList() {
		return
	}
	switch {
	case r.c.Int64s != nil && len(r.i64) > r.start:
		r.c.Int64s(&r.rows[r.row], r.i64[r.start:len(r.i64):len(r.i64)])
		r.start = len(r.i64)
	case r.c.Int32s != nil && len(r.i32) > r.start:
		r.c.Int32s(&r.rows[r.row], r.i32[r.start:len(r.i32):len(r.i32)])
		r.start = len(r.i32)
	case r.c.Strings != nil && len(r.str) > r.start:
		r.c.Strings(&r.rows[r.row], r.str[r.start:len(r.str):len(r.str)])
		r.start = len(r.str)
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
