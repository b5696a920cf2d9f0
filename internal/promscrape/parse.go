package promscrape

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// Parse decodes one /metrics response body into samples with prometheus/common's expfmt.
// contentType is the response's Content-Type header: the Prometheus text format (also when
// empty or unrecognised), OpenMetrics 0.0.1/1.0.0, or delimited protobuf. The metric type
// comes from the exposition (# TYPE), never from the name.
//
// Histograms become their _bucket{le}, _sum and _count series (a +Inf bucket is added when the
// exposition leaves it implicit) and summaries their {quantile}, _sum and _count series.
// _created series are dropped: the text format exposes them as separate gauge families named
// after a counter, histogram or summary of the same scrape (X_created beside X_total or X),
// and only such siblings are dropped. Renamed vLLM metrics get their new name (CanonicalName)
// unless the scrape also exposes the new name; OriginalName keeps what the server said.
// A series exposed twice keeps its first value. Samples come out sorted by family name, then by labels.
func Parse(body []byte, contentType string) ([]Sample, error) {
	return ParseContext(context.Background(), body, contentType)
}

// ParseContext is Parse that gives up, between metric families, once ctx ends. expfmt's
// OpenMetrics decoder costs milliseconds per line (seconds for a whole vLLM exposition; see
// docs/results.md), so a scrape that gets OpenMetrics despite asking for the text format is
// cut at its timeout rather than stalling the grid.
func ParseContext(ctx context.Context, body []byte, contentType string) ([]Sample, error) {
	fams, err := decodeFamilies(ctx, body, formatOf(contentType))
	if err != nil {
		return nil, err
	}
	return flatten(fams), nil
}

// formatOf picks the exposition format from a Content-Type, defaulting to the text format
// as Prometheus does.
func formatOf(contentType string) expfmt.Format {
	h := http.Header{}
	h.Set("Content-Type", contentType)
	if f := expfmt.ResponseFormat(h); f != expfmt.FmtUnknown {
		return f
	}
	return expfmt.FmtText
}

func decodeFamilies(ctx context.Context, body []byte, format expfmt.Format) ([]*dto.MetricFamily, error) {
	dec := expfmt.NewDecoder(bytes.NewReader(body), format)
	var fams []*dto.MetricFamily
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("parse metrics (%s): %w", formatLabel(format), err)
		}
		mf := &dto.MetricFamily{}
		err := dec.Decode(mf)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("parse metrics (%s): %w", formatLabel(format), err)
		}
		fams = append(fams, mf)
	}
	sort.Slice(fams, func(i, j int) bool { return fams[i].GetName() < fams[j].GetName() })
	return fams, nil
}

func formatLabel(f expfmt.Format) string {
	switch f.FormatType() {
	case expfmt.TypeOpenMetrics:
		return "openmetrics"
	case expfmt.TypeProtoDelim:
		return "protobuf"
	}
	return "text"
}

func flatten(fams []*dto.MetricFamily) []Sample {
	types := make(map[string]dto.MetricType, len(fams))
	for _, mf := range fams {
		types[mf.GetName()] = mf.GetType()
	}
	var out []Sample
	seen := map[string]bool{}
	for _, mf := range fams {
		name := mf.GetName()
		if isCreatedSibling(name, types) {
			continue
		}
		canonical := CanonicalName(name)
		if _, both := types[canonical]; both && canonical != name {
			canonical = name // the server exposes the new name too: keep both as they are
		}
		f := family{name: canonical, original: name, typ: typeName(mf.GetType())}
		for _, m := range sortedMetrics(mf.GetMetric()) {
			if k := canonical + "{" + m.key + "}"; !seen[k] {
				seen[k] = true // the text parser lets a series repeat: keep the first
				out = f.appendMetric(out, mf.GetType(), m)
			}
		}
	}
	return out
}

// isCreatedSibling reports whether name is the _created series of a counter, histogram or
// summary exposed in the same scrape.
func isCreatedSibling(name string, types map[string]dto.MetricType) bool {
	base, ok := strings.CutSuffix(name, "_created")
	if !ok {
		return false
	}
	if t, ok := types[base+"_total"]; ok && t == dto.MetricType_COUNTER {
		return true
	}
	t, ok := types[base]
	if !ok {
		return false
	}
	switch t {
	case dto.MetricType_COUNTER, dto.MetricType_HISTOGRAM, dto.MetricType_SUMMARY,
		dto.MetricType_GAUGE_HISTOGRAM:
		return true
	}
	return false
}

func typeName(t dto.MetricType) string {
	switch t {
	case dto.MetricType_COUNTER:
		return TypeCounter
	case dto.MetricType_GAUGE:
		return TypeGauge
	case dto.MetricType_HISTOGRAM:
		return TypeHistogram
	case dto.MetricType_GAUGE_HISTOGRAM:
		return TypeGaugeHistogram
	case dto.MetricType_SUMMARY:
		return TypeSummary
	}
	return TypeUntyped
}

type metricWithLabels struct {
	m      *dto.Metric
	labels Labels
	key    string
}

func sortedMetrics(ms []*dto.Metric) []metricWithLabels {
	out := make([]metricWithLabels, 0, len(ms))
	for _, m := range ms {
		var ls Labels
		for _, lp := range m.GetLabel() {
			ls = append(ls, Label{Name: lp.GetName(), Value: lp.GetValue()})
		}
		sort.Slice(ls, func(i, j int) bool { return ls[i].Name < ls[j].Name })
		out = append(out, metricWithLabels{m: m, labels: ls, key: FormatLabels(ls)})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out
}

// family turns one metric family into samples.
type family struct {
	name, original, typ string
}

func (f family) sample(suffix string, ls Labels, v float64) Sample {
	return Sample{Name: f.name + suffix, OriginalName: f.original + suffix, Type: f.typ,
		Labels: ls, Value: v}
}

func (f family) appendMetric(out []Sample, t dto.MetricType, m metricWithLabels) []Sample {
	switch t {
	case dto.MetricType_COUNTER:
		return append(out, f.sample("", m.labels, m.m.GetCounter().GetValue()))
	case dto.MetricType_GAUGE:
		return append(out, f.sample("", m.labels, m.m.GetGauge().GetValue()))
	case dto.MetricType_SUMMARY:
		return f.appendSummary(out, m)
	case dto.MetricType_HISTOGRAM:
		return f.appendHistogram(out, m, "_sum", "_count")
	case dto.MetricType_GAUGE_HISTOGRAM:
		return f.appendHistogram(out, m, "_gsum", "_gcount")
	}
	return append(out, f.sample("", m.labels, m.m.GetUntyped().GetValue()))
}

func (f family) appendSummary(out []Sample, m metricWithLabels) []Sample {
	s := m.m.GetSummary()
	for _, q := range s.GetQuantile() {
		out = append(out, f.sample("", withLabel(m.labels, "quantile", formatFloat(q.GetQuantile())), q.GetValue()))
	}
	out = append(out, f.sample("_sum", m.labels, s.GetSampleSum()))
	return append(out, f.sample("_count", m.labels, float64(s.GetSampleCount())))
}

func (f family) appendHistogram(out []Sample, m metricWithLabels, sum, count string) []Sample {
	h := m.m.GetHistogram()
	n := countOf(h.GetSampleCountFloat(), h.GetSampleCount())
	sawInf := false
	for _, b := range h.GetBucket() {
		ub := b.GetUpperBound()
		sawInf = sawInf || math.IsInf(ub, 1)
		v := countOf(b.GetCumulativeCountFloat(), b.GetCumulativeCount())
		out = append(out, f.sample("_bucket", withLabel(m.labels, "le", formatFloat(ub)), v))
	}
	if !sawInf {
		out = append(out, f.sample("_bucket", withLabel(m.labels, "le", "+Inf"), n))
	}
	out = append(out, f.sample(sum, m.labels, h.GetSampleSum()))
	return append(out, f.sample(count, m.labels, n))
}

func countOf(f float64, u uint64) float64 {
	if f != 0 {
		return f
	}
	return float64(u)
}

// withLabel returns a sorted copy of ls with name=value set.
func withLabel(ls Labels, name, value string) Labels {
	out := make(Labels, 0, len(ls)+1)
	added := false
	for _, l := range ls {
		if l.Name == name {
			continue
		}
		if !added && l.Name > name {
			out = append(out, Label{Name: name, Value: value})
			added = true
		}
		out = append(out, l)
	}
	if !added {
		out = append(out, Label{Name: name, Value: value})
	}
	return out
}

// formatFloat writes le and quantile values the way Prometheus normalises them: the shortest
// form ("1", "0.25", "2560"), with +Inf, -Inf and NaN spelled out.
func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
