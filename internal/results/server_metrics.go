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
