package results

// Phases of a server-metrics row: the snapshot just before the measured window, the scrapes on
// the grid during it, and the snapshot just after it.
const (
	PhaseBefore = "before"
	PhaseDuring = "during"
	PhaseAfter  = "after"
)

// ServerMetric is one row of server_metrics.parquet: one sample of one series of the server's
// Prometheus /metrics in one scrape (a long table: a scrape of N samples gives N rows). The
// columns are documented in docs/results.md ("server_metrics.parquet").
//
// Histograms appear as their _bucket{le}, _sum and _count series and summaries as their
// {quantile}, _sum and _count series, each row carrying the family's type; counters keep their
// _total name. Every scrape also adds rows of llmscale's own scrape series (llmscale:scrape_up,
// llmscale:scrape_duration_seconds, llmscale:scrape_samples); a failed scrape is one
// llmscale:scrape_up row of value 0 with the error text.
type ServerMetric struct {
	ExpID        string            `parquet:"exp_id,dict"`
	Phase        string            `parquet:"phase,dict"`
	Scrape       int64             `parquet:"scrape"`
	TimeUnixNs   int64             `parquet:"time_unix_ns"`
	OffsetNs     int64             `parquet:"offset_ns"`
	Name         string            `parquet:"name,dict"`
	OriginalName string            `parquet:"original_name,dict"`
	Type         string            `parquet:"type,dict"`
	Labels       string            `parquet:"labels,dict"`
	LabelMap     map[string]string `parquet:"label_map"`
	Engine       string            `parquet:"engine,dict"`
	ModelName    string            `parquet:"model_name,dict"`
	Value        float64           `parquet:"value"`
	Error        string            `parquet:"error,dict"`
}

// ReadServerMetricSeries reads the columns of server_metrics.parquet that place each sample
// in its series and window — phase, scrape, time_unix_ns, name, type, labels, label_map and
// value — leaving the others zero. Rows of the same labels share one label map, built from the
// first of them (a series' rows all carry the same map). Its strings take few values, so each
// distinct one is allocated once.
func ReadServerMetricSeries(path string) ([]ServerMetric, error) {
	type seriesRow struct {
		ServerMetric
		keys, values []string
	}
	str := StringField[seriesRow]
	// only the first row of each labels gives the map: the others' maps are not read
	notFirst := func() func(r *seriesRow) bool {
		seen := map[string]bool{}
		return func(r *seriesRow) bool {
			if seen[r.Labels] {
				return true
			}
			seen[r.Labels] = true
			return false
		}
	}
	rows, err := ReadColumns(path, []Column[seriesRow]{
		str("phase", func(r *seriesRow) *string { return &r.Phase }),
		Int64Field("scrape", func(r *seriesRow) *int64 { return &r.Scrape }),
		Int64Field("time_unix_ns", func(r *seriesRow) *int64 { return &r.TimeUnixNs }),
		str("name", func(r *seriesRow) *string { return &r.Name }),
		str("type", func(r *seriesRow) *string { return &r.Type }),
		str("labels", func(r *seriesRow) *string { return &r.Labels }),
		{Path: []string{"label_map", "key_value", "key"}, Strings: func(r *seriesRow, v []string) { r.keys = v },
			Skip: notFirst()},
		{Path: []string{"label_map", "key_value", "value"}, Strings: func(r *seriesRow, v []string) { r.values = v },
			Skip: notFirst()},
		{Path: []string{"value"}, Float64: func(r *seriesRow, v float64) { r.Value = v }},
	})
	if err != nil {
		return nil, err
	}
	out := make([]ServerMetric, len(rows))
	byLabels := map[string]map[string]string{}
	for i := range rows {
		r := &rows[i]
		m, ok := byLabels[r.Labels]
		if !ok {
			m = labelMap(r.keys, r.values)
			byLabels[r.Labels] = m
		}
		out[i], out[i].LabelMap = r.ServerMetric, m
	}
	return out, nil
}

// labelMap pairs a row's label_map keys and values; nil for none.
func labelMap(keys, values []string) map[string]string {
	if len(keys) == 0 {
		return nil
	}
	m := make(map[string]string, len(keys))
	for i, k := range keys {
		if i < len(values) {
			m[k] = values[i]
		}
	}
	return m
}
