package fit

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Table column names. Header names are matched case-insensitively after trimming spaces; the
// columns may come in any order; other columns are ignored.
const (
	ColSeries     = "series"
	ColGPUs       = "gpus"
	ColThroughput = "throughput"
	ColRepeat     = "repeat" // optional
)

const tableHint = "the header must name the columns series, gpus and throughput (and optionally repeat), in any order"

// ParseTable reads a plain CSV table of scaling measurements, such as a published benchmark:
//
//	series,gpus,throughput,repeat
//	tp,1,1510.2,1
//	tp,2,2850,1
//
// The first non-comment line is the header (see ColSeries…). Lines starting with # are
// comments; blank lines are skipped; a UTF-8 byte-order mark is dropped. The separator is a
// comma, or a semicolon or tab when the header holds more of those than commas. gpus is a whole
// number ≥ 1, throughput a finite number > 0 in any unit (one per series), repeat a whole number
// ≥ 0; without a repeat column, rows of one series and GPU count are numbered 1, 2, … in file
// order. Series come back in the order they first appear. Errors name the line and column and
// say what to fix.
func ParseTable(r io.Reader) ([]Series, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read table: %w", err)
	}
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma, cr.Comment, cr.TrimLeadingSpace = sniffSeparator(data), '#', true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("table is empty: %s", tableHint)
	}
	if err != nil {
		return nil, csvError(err, 0)
	}
	line, _ := cr.FieldPos(0)
	cols, err := tableColumns(header, line)
	if err != nil {
		return nil, err
	}
	return readRows(cr, cols, len(header))
}

// sniffSeparator picks ',' unless the first content line has more ';' or tabs than commas.
func sniffSeparator(data []byte) rune {
	for line := range bytes.Lines(data) {
		t := bytes.TrimSpace(line)
		if len(t) == 0 || t[0] == '#' {
			continue
		}
		best, n := ',', bytes.Count(t, []byte(","))
		for _, c := range []rune{';', '\t'} {
			if k := bytes.Count(t, []byte(string(c))); k > n {
				best, n = c, k
			}
		}
		return best
	}
	return ','
}

// columns holds the 0-based index of each known column; repeat is -1 when absent.
type columns struct {
	series, gpus, throughput, repeat int
	names                            []string // header as written, for messages
}

func tableColumns(header []string, line int) (columns, error) {
	idx := map[string]int{}
	for i, h := range header {
		key := strings.ToLower(strings.TrimSpace(h))
		switch key {
		case ColSeries, ColGPUs, ColThroughput, ColRepeat:
			if j, dup := idx[key]; dup {
				return columns{}, fmt.Errorf("line %d, column %d: column %q appears twice (also column %d); keep one", line, i+1, key, j+1)
			}
			idx[key] = i
		}
	}
	var missing []string
	for _, k := range []string{ColSeries, ColGPUs, ColThroughput} {
		if _, ok := idx[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return columns{}, fmt.Errorf("line %d: header lacks %s; %s (it has: %s)",
			line, strings.Join(missing, ", "), tableHint, strings.Join(header, ", "))
	}
	c := columns{series: idx[ColSeries], gpus: idx[ColGPUs], throughput: idx[ColThroughput], repeat: -1, names: header}
	if i, ok := idx[ColRepeat]; ok {
		c.repeat = i
	}
	return c, nil
}

// pointKey identifies a point for duplicate detection.
type pointKey struct {
	series       string
	gpus, repeat int
}

func readRows(cr *csv.Reader, cols columns, width int) ([]Series, error) {
	var out []Series
	seriesAt := map[string]int{}
	seen := map[pointKey]int{} // → line
	auto := map[pointKey]int{} // (series, gpus) → rows so far, for automatic repeat numbers
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvError(err, width)
		}
		line, _ := cr.FieldPos(0)
		name, p, err := parseRow(rec, cols, line)
		if err != nil {
			return nil, err
		}
		if cols.repeat < 0 {
			k := pointKey{series: name, gpus: p.GPUs}
			auto[k]++
			p.Repeat = auto[k]
		}
		key := pointKey{name, p.GPUs, p.Repeat}
		if prev, dup := seen[key]; dup {
			return nil, fmt.Errorf("line %d: series %q, gpus %d, repeat %d is already on line %d; give each repeat its own number",
				line, name, p.GPUs, p.Repeat, prev)
		}
		seen[key] = line
		i, ok := seriesAt[name]
		if !ok {
			i = len(out)
			seriesAt[name] = i
			out = append(out, Series{Name: name})
		}
		out[i].Points = append(out[i].Points, p)
	}
	if len(out) == 0 {
		return nil, errors.New("table has a header but no data rows")
	}
	return out, nil
}

func parseRow(rec []string, cols columns, line int) (string, Point, error) {
	cell := func(i int) string { return strings.TrimSpace(rec[i]) }
	where := func(i int) string {
		return fmt.Sprintf("line %d, column %d (%s)", line, i+1, strings.TrimSpace(cols.names[i]))
	}
	name := cell(cols.series)
	if name == "" {
		return "", Point{}, fmt.Errorf("%s: empty series name; give every row a series name", where(cols.series))
	}
	var p Point
	var err error
	if p.GPUs, err = strconv.Atoi(cell(cols.gpus)); err != nil || p.GPUs < 1 {
		return "", Point{}, fmt.Errorf("%s: %q is not a GPU count; write a whole number of 1 or more", where(cols.gpus), cell(cols.gpus))
	}
	p.Throughput, err = strconv.ParseFloat(cell(cols.throughput), 64)
	if err != nil || math.IsNaN(p.Throughput) || math.IsInf(p.Throughput, 0) || p.Throughput <= 0 {
		return "", Point{}, fmt.Errorf("%s: %q is not a throughput; write a number greater than zero such as 1234.5 "+
			"(a dot for decimals, no units or thousands separators)", where(cols.throughput), cell(cols.throughput))
	}
	if cols.repeat >= 0 {
		if p.Repeat, err = strconv.Atoi(cell(cols.repeat)); err != nil || p.Repeat < 0 {
			return "", Point{}, fmt.Errorf("%s: %q is not a repeat number; write a whole number of 0 or more, or drop the column",
				where(cols.repeat), cell(cols.repeat))
		}
	}
	return name, p, nil
}

// csvError turns encoding/csv's errors into ones that say what to fix.
func csvError(err error, width int) error {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return fmt.Errorf("read table: %w", err)
	}
	switch {
	case errors.Is(pe.Err, csv.ErrFieldCount):
		return fmt.Errorf("line %d: %w: the header has %d columns; give every row one value per column", pe.Line, pe.Err, width)
	case errors.Is(pe.Err, csv.ErrQuote), errors.Is(pe.Err, csv.ErrBareQuote):
		return fmt.Errorf("line %d, character %d: %w: put a field that holds quotes or separators in double quotes, "+
			"and write a quote inside it as \"\"", pe.Line, pe.Column, pe.Err)
	}
	return fmt.Errorf("line %d, character %d: %w", pe.Line, pe.Column, pe.Err)
}
