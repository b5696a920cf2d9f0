package results

import (
	"encoding/csv"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
)

// Columns lists the column names of a row type T, in field order: the names of the parquet
// struct tags, so a table's CSV and Parquet forms have the same columns.
func Columns[T any]() []string {
	t := reflect.TypeFor[T]()
	out := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("parquet"), ",")
		out = append(out, name)
	}
	return out
}

// WriteCSV writes rows of a flat struct type T (string, integer, float and bool fields, or
// pointers to them) as CSV with a header of the column names (see Columns). A nil pointer and
// a NaN are empty cells; floats are written in the shortest form that reads back exactly.
func WriteCSV[T any](w io.Writer, rows []T) error {
	cols := Columns[T]()
	cw := csv.NewWriter(w)
	if err := cw.Write(cols); err != nil {
		return err
	}
	rec := make([]string, len(cols))
	for i := range rows {
		v := reflect.ValueOf(&rows[i]).Elem()
		for j := range v.NumField() {
			c, err := csvCell(v.Field(j))
			if err != nil {
				return fmt.Errorf("column %s: %w", cols[j], err)
			}
			rec[j] = c
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func csvCell(v reflect.Value) (string, error) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return "", nil
		}
		return csvCell(v.Elem())
	case reflect.String:
		return v.String(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(v.Uint(), 10), nil
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		if f != f { // NaN
			return "", nil
		}
		return strconv.FormatFloat(f, 'g', -1, 64), nil
	case reflect.Bool:
		return strconv.FormatBool(v.Bool()), nil
	}
	return "", fmt.Errorf("no CSV form for a %s", v.Kind())
}
