package compare

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/llmscale/llmscale/internal/aggregate"
)

// column reads one column of a summary row by its summary_metrics name.
type column struct {
	index []int
	kind  reflect.Kind // Float64 / Int64 / String / Bool, or Pointer for optional numbers
}

// columnsOf maps every summary_metrics column name to its field of aggregate.Row, read from the
// parquet tags so the names are the documented ones.
func columnsOf() map[string]column {
	t := reflect.TypeFor[aggregate.Row]()
	out := make(map[string]column, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("parquet"), ",")
		if name != "" {
			out[name] = column{index: f.Index, kind: f.Type.Kind()}
		}
	}
	return out
}

// number reads a numeric column: ok is false for a null, a string or a boolean column.
func (c column) number(r *aggregate.Row) (float64, bool) {
	v := reflect.ValueOf(r).Elem().FieldByIndex(c.index)
	switch c.kind {
	case reflect.Pointer:
		if v.IsNil() {
			return 0, false
		}
		return v.Elem().Float(), true
	case reflect.Float64:
		return v.Float(), true
	case reflect.Int64:
		return float64(v.Int()), true
	}
	return 0, false
}

// text reads any column as the text a selector or a key compares.
func (c column) text(r *aggregate.Row) string {
	v := reflect.ValueOf(r).Elem().FieldByIndex(c.index)
	switch c.kind {
	case reflect.Pointer:
		if v.IsNil() {
			return ""
		}
		return strconv.FormatFloat(v.Elem().Float(), 'g', -1, 64)
	case reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	case reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	}
	return v.String()
}

// isNumeric reports whether a column holds numbers (metrics and thresholds need them).
func (c column) isNumeric() bool {
	return c.kind == reflect.Pointer || c.kind == reflect.Float64 || c.kind == reflect.Int64
}

// resolveMetric accepts a summary_metrics column name, or the percentile-first spelling of
// vLLM and k6 users (p99_ttft_ms for ttft_ms_p99, mean_tpot_ms for tpot_ms_mean).
func resolveMetric(cols map[string]column, name string) (string, error) {
	name = strings.TrimSpace(strings.ToLower(name))
	if c, ok := cols[name]; ok {
		if !c.isNumeric() {
			return "", fmt.Errorf("column %q is not a number", name)
		}
		return name, nil
	}
	if pre, rest, ok := strings.Cut(name, "_"); ok {
		if alt := rest + "_" + pre; cols[alt].isNumeric() {
			return alt, nil
		}
	}
	return "", fmt.Errorf("unknown metric %q: name a numeric column of summary_metrics (docs/results.md), e.g. ttft_ms_p99 or p99_ttft_ms", name)
}
