package promscrape

import (
	"fmt"
	"sort"
	"strings"
)

// Metric types as written in the type column, from the exposition's # TYPE line.
const (
	TypeCounter        = "counter"
	TypeGauge          = "gauge"
	TypeHistogram      = "histogram"
	TypeGaugeHistogram = "gaugehistogram"
	TypeSummary        = "summary"
	TypeUntyped        = "untyped"
)

// Label is one label of a series.
type Label struct {
	Name, Value string
}

// Labels are a series' labels, sorted by name; names are unique.
type Labels []Label

// Get returns the value of the label called name, or "" if there is none.
func (ls Labels) Get(name string) string {
	for _, l := range ls {
		if l.Name == name {
			return l.Value
		}
	}
	return ""
}

// Map returns the labels as a map (nil for no labels).
func (ls Labels) Map() map[string]string {
	if len(ls) == 0 {
		return nil
	}
	m := make(map[string]string, len(ls))
	for _, l := range ls {
		m[l.Name] = l.Value
	}
	return m
}

// String is FormatLabels(ls).
func (ls Labels) String() string { return FormatLabels(ls) }

// LabelsFromMap builds sorted Labels from a map.
func LabelsFromMap(m map[string]string) Labels {
	ls := make(Labels, 0, len(m))
	for k, v := range m {
		ls = append(ls, Label{Name: k, Value: v})
	}
	sort.Slice(ls, func(i, j int) bool { return ls[i].Name < ls[j].Name })
	return ls
}

// FormatLabels writes labels as "k=v,k=v", sorted by name, the labels column of
// server_metrics.parquet. A backslash, comma or equals sign inside a name or value is escaped
// with a backslash, so ParseLabels gives the labels back exactly.
func FormatLabels(ls Labels) string {
	var b strings.Builder
	for i, l := range ls {
		if i > 0 {
			b.WriteByte(',')
		}
		writeEscaped(&b, l.Name)
		b.WriteByte('=')
		writeEscaped(&b, l.Value)
	}
	return b.String()
}

func writeEscaped(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', ',', '=':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
}

// ParseLabels reads a labels string written by FormatLabels.
func ParseLabels(s string) (Labels, error) {
	if s == "" {
		return nil, nil
	}
	var (
		ls      Labels
		cur     strings.Builder
		name    string
		inValue bool
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			if i+1 == len(s) {
				return nil, fmt.Errorf("parse labels %q: trailing backslash", s)
			}
			i++
			cur.WriteByte(s[i])
		case c == '=' && !inValue:
			name, inValue = cur.String(), true
			cur.Reset()
		case c == ',' && inValue:
			ls = append(ls, Label{Name: name, Value: cur.String()})
			cur.Reset()
			inValue = false
		case c == '=' || c == ',':
			return nil, fmt.Errorf("parse labels %q: unexpected %q at byte %d", s, c, i)
		default:
			cur.WriteByte(c)
		}
	}
	if !inValue {
		return nil, fmt.Errorf("parse labels %q: label without a value", s)
	}
	return append(ls, Label{Name: name, Value: cur.String()}), nil
}

// Sample is one value of one series in one scrape.
type Sample struct {
	Name         string // after renaming (see CanonicalName)
	OriginalName string // as the server exposed it
	Type         string // the family's type from # TYPE (TypeCounter, …)
	Labels       Labels
	Value        float64
}

// key identifies the series of a sample within a scrape.
func (s Sample) key() string { return s.Name + "{" + FormatLabels(s.Labels) + "}" }
