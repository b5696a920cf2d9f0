package compare

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/llmscale/llmscale/internal/aggregate"
	"github.com/llmscale/llmscale/internal/diagnose"
	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/scaling"
)

// Side is one side of a comparison: a results tree and, optionally, a selection of its
// experiments ("results@tp=1,dp=2": rows whose columns equal these values).
type Side struct {
	Arg    string // as the user wrote it, for titles
	Root   string
	Select []Filter
}

// Filter keeps the rows whose column equals value (compared as text: "2", "medium", "true").
type Filter struct{ Column, Value string }

// ParseSide reads "DIR" or "DIR@col=value,col=value". Each column must be one of
// summary_metrics.
func ParseSide(arg string) (Side, error) {
	s := Side{Arg: arg, Root: arg}
	at := strings.LastIndexByte(arg, '@')
	if at < 0 {
		if arg == "" {
			return Side{}, errors.New("an empty results folder name")
		}
		return s, nil
	}
	s.Root = arg[:at]
	cols := columnsOf()
	for part := range strings.SplitSeq(arg[at+1:], ",") {
		k, v, ok := strings.Cut(part, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return Side{}, fmt.Errorf("%q: a selection is col=value[,col=value…] after @, e.g. results@tp=1", arg)
		}
		if _, known := cols[k]; !known {
			return Side{}, fmt.Errorf("%q: %q is not a column of summary_metrics (docs/results.md)", arg, k)
		}
		s.Select = append(s.Select, Filter{Column: k, Value: strings.TrimSpace(v)})
	}
	if s.Root == "" {
		return Side{}, fmt.Errorf("%q: no results folder before @", arg)
	}
	return s, nil
}

// Campaign is one side loaded: its selected rows (every status), their scaling fits and
// verdicts, and whether the rows were aggregated in memory from raw/ (no agg/ files yet).
type Campaign struct {
	Side       Side
	Rows       []aggregate.Row
	Fits       []scaling.Fit
	Diagnosis  diagnose.Diagnosis
	Aggregated bool
	Problems   []error // experiments whose raw files could not be read (in-memory aggregation)
}

// ErrNotResults is returned for a folder with neither agg/summary_metrics.parquet nor raw/.
var ErrNotResults = errors.New("not a results tree")

// Load reads a side: agg/summary_metrics.parquet when present, else every experiment of raw/
// aggregated in memory (nothing is written). The fits use seed, as `llmscale fit` does.
func Load(s Side, seed uint64) (Campaign, error) {
	c := Campaign{Side: s}
	rows, err := aggregate.Read(filepath.Join(s.Root, results.AggDir))
	if errors.Is(err, os.ErrNotExist) {
		if _, serr := os.Stat(filepath.Join(s.Root, results.RawDir)); serr != nil {
			return c, fmt.Errorf("%s: %w: no %s/%s and no %s/ folder", s.Root, ErrNotResults,
				results.AggDir, aggregate.SummaryParquet, results.RawDir)
		}
		rows, c.Problems, err = aggregate.Tree(s.Root)
		c.Aggregated = true
	}
	if err != nil {
		return c, fmt.Errorf("%s: %w", s.Root, err)
	}
	var exps []diagnose.ExperimentDiagnosis
	c.Rows, exps = diagnose.ExperimentStage(s.filter(rows))
	c.Fits = scaling.FitAll(scaling.Build(c.Rows), scaling.Options{Seed: seed})
	c.Diagnosis = diagnose.SeriesStage(c.Rows, exps, c.Fits)
	return c, nil
}

// filter keeps the rows the selection names.
func (s Side) filter(rows []aggregate.Row) []aggregate.Row {
	if len(s.Select) == 0 {
		return rows
	}
	cols := columnsOf()
	return slices.DeleteFunc(slices.Clone(rows), func(r aggregate.Row) bool {
		for _, f := range s.Select {
			if cols[f.Column].text(&r) != f.Value {
				return true
			}
		}
		return false
	})
}

// selected lists the columns either side selects on: they differ by design, so they are not
// part of the matching key.
func selected(a, b Side) []string {
	var out []string
	for _, f := range append(slices.Clone(a.Select), b.Select...) {
		if !slices.Contains(out, f.Column) {
			out = append(out, f.Column)
		}
	}
	return out
}
