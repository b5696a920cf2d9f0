// Package analysis runs the stages after a campaign on a results tree — aggregate, fit,
// diagnose — and writes their files under results/agg/: summary_metrics.parquet and .csv,
// amdahl_fit.csv, scaling_fits.parquet, diagnosis.csv and diagnosis.json. Each stage reads
// only files, so any of them can be re-run alone; Load gives the report everything in memory.
package analysis

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/llmscale/llmscale/internal/aggregate"
	"github.com/llmscale/llmscale/internal/diagnose"
	"github.com/llmscale/llmscale/internal/fit"
	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/scaling"
)

// Files of the fit stage under results/agg/.
const (
	AmdahlFile  = "amdahl_fit.csv"
	ScalingFile = "scaling_fits.parquet"
)

// Options configure the stages.
type Options struct {
	// Results is the results tree (its raw/ holds the experiments).
	Results string
	// Out is where the files go; "" is Results/agg.
	Out string
	// Seed seeds the bootstrap; 0 is scaling.DefaultSeed. It is recorded in the fit files.
	Seed uint64
	// Fit tunes the bootstrap (resamples, confidence).
	Fit fit.Options
	// Log receives the per-experiment problems and notes for people (stderr); nil discards.
	Log io.Writer
}

func (o Options) out() string {
	if o.Out != "" {
		return o.Out
	}
	return filepath.Join(o.Results, results.AggDir)
}

func (o Options) log() io.Writer {
	if o.Log == nil {
		return io.Discard
	}
	return o.Log
}

// Result is what the stages computed: the summary rows (saturated flags set), the fitted
// series and every verdict. The report is built from it.
type Result struct {
	Rows      []aggregate.Row
	Fits      []scaling.Fit
	Diagnosis diagnose.Diagnosis
	// Problems are the experiments whose raw files could not be read (one error each); their
	// rows are still in Rows, with the reason.
	Problems []error
}

// ErrSomeUnreadable is wrapped by Aggregate's error when some experiments' files could not
// be read; their rows say why, and the other experiments were aggregated.
var ErrSomeUnreadable = errors.New("some experiments' files could not be read")

// Aggregate summarises every experiment of the results tree into summary_metrics.parquet and
// .csv, with the saturated flag of the diagnosis. An unreadable experiment is printed to Log,
// recorded in its row and returned in Result.Problems; the others are aggregated, and the
// files are written. The error wraps ErrSomeUnreadable then.
func Aggregate(o Options) (Result, error) {
	res, _, err := aggregateTree(o)
	return res, err
}

// aggregateTree is Aggregate, returning the experiment diagnoses too for the series stage.
// The experiment stage runs before the summary rows are written, so they are written once,
// with their saturated flag.
func aggregateTree(o Options) (Result, []diagnose.ExperimentDiagnosis, error) {
	raw, problems, err := aggregate.Tree(o.Results)
	if err != nil {
		return Result{}, nil, err
	}
	for _, p := range problems {
		fmt.Fprintf(o.log(), "llmscale: aggregate: %v\n", p)
	}
	rows, exps := diagnose.ExperimentStage(raw)
	if err := aggregate.Write(o.out(), rows); err != nil {
		return Result{}, nil, err
	}
	res := Result{Rows: rows, Problems: problems}
	if len(problems) > 0 {
		return res, exps, fmt.Errorf("%d of %d experiments: %w", len(problems), len(rows), ErrSomeUnreadable)
	}
	return res, exps, nil
}

// summaryRows reads summary_metrics.parquet, aggregating the tree first when it is absent,
// and returns the rows after the experiment stage with their diagnoses.
func summaryRows(o Options) (Result, []diagnose.ExperimentDiagnosis, error) {
	read, err := aggregate.Read(o.out())
	if err == nil {
		// The rules of this version decide the saturated flag, should the file be older.
		rows, exps := diagnose.ExperimentStage(read)
		if newer := newerExperiments(o); newer > 0 {
			fmt.Fprintf(o.log(), "llmscale: note: %d experiments changed after %s was written; run `llmscale aggregate` "+
				"to include them\n", newer, aggregate.SummaryParquet)
		}
		return Result{Rows: rows}, exps, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return Result{}, nil, fmt.Errorf("%w (run `llmscale aggregate` again)", err)
	}
	fmt.Fprintf(o.log(), "llmscale: %s not found: aggregating %s first\n", aggregate.SummaryParquet, o.Results)
	res, exps, err := aggregateTree(o)
	if errors.Is(err, ErrSomeUnreadable) {
		err = nil // reported; the rest is analysed
	}
	return res, exps, err
}

// Fit forms the scaling series from summary_metrics.parquet (aggregating first when it is
// absent), fits them, diagnoses every experiment and series, and writes amdahl_fit.csv,
// scaling_fits.parquet, diagnosis.csv and diagnosis.json.
func Fit(o Options) (Result, error) {
	res, exps, err := summaryRows(o)
	if err != nil {
		return res, err
	}
	res.Fits = scaling.FitAll(scaling.Build(res.Rows), scaling.Options{Seed: o.Seed, Fit: o.Fit})
	res.Diagnosis = diagnose.SeriesStage(res.Rows, exps, res.Fits)
	if len(res.Fits) == 0 {
		fmt.Fprintf(o.log(), "llmscale: fit: no scaling series (experiments that differ only in GPU count, done, with "+
			"throughput); %s and %s have no rows\n", AmdahlFile, ScalingFile)
	}
	if err := writeFits(o.out(), res.Fits, res.Diagnosis); err != nil {
		return res, err
	}
	return res, diagnose.Write(o.out(), res.Diagnosis)
}

// FitTable runs the fits on a user's table (fit.ParseTable: series, gpus, throughput[, repeat])
// and writes amdahl_fit.csv and scaling_fits.parquet (and the series verdicts) to o.Out.
func FitTable(r io.Reader, o Options) (Result, error) {
	ts, err := fit.ParseTable(r)
	if err != nil {
		return Result{}, err
	}
	res := Result{Fits: scaling.FitAll(scaling.FromTable(ts), scaling.Options{Seed: o.Seed, Fit: o.Fit})}
	res.Diagnosis = diagnose.All(nil, res.Fits)
	if err := writeFits(o.out(), res.Fits, res.Diagnosis); err != nil {
		return res, err
	}
	return res, diagnose.Write(o.out(), res.Diagnosis)
}

// Diagnose is Fit under another name: the series verdicts need the fits, and both are cheap.
func Diagnose(o Options) (Result, error) { return Fit(o) }

// Run runs aggregate, fit and diagnose. Unreadable experiments do not stop it: they are
// reported, in Result.Problems and an error wrapping ErrSomeUnreadable, after the files are
// written.
func Run(o Options) (Result, error) {
	agg, aerr := Aggregate(o)
	if aerr != nil && !errors.Is(aerr, ErrSomeUnreadable) {
		return agg, aerr
	}
	res, err := Fit(o)
	res.Problems = agg.Problems
	if err != nil {
		return res, err
	}
	return res, aerr
}

// Load computes everything from summary_metrics.parquet without writing: what a report
// needs when it runs alone. (The bootstrap is seeded, so the fits equal those written.)
func Load(o Options) (Result, error) {
	read, err := aggregate.Read(o.out())
	if err != nil {
		return Result{}, fmt.Errorf("%w (run `llmscale aggregate` first)", err)
	}
	rows, exps := diagnose.ExperimentStage(read)
	res := Result{Rows: rows}
	res.Fits = scaling.FitAll(scaling.Build(rows), scaling.Options{Seed: o.Seed, Fit: o.Fit})
	res.Diagnosis = diagnose.SeriesStage(rows, exps, res.Fits)
	return res, nil
}

// writeFits writes amdahl_fit.csv (with each series' verdict) and scaling_fits.parquet.
func writeFits(dir string, fits []scaling.Fit, d diagnose.Diagnosis) error {
	var amdahl []scaling.AmdahlRow
	var rows []scaling.ScalingRow
	for _, f := range fits {
		a := f.AmdahlRow()
		if v, ok := d.SeriesVerdict(f.Series.Name); ok {
			a.Verdict, a.VerdictLabel, a.VerdictSentence = v.Code, v.Label, v.Sentence
		}
		amdahl = append(amdahl, a)
		rows = append(rows, withNotes(f.ScalingRows(), d, f.Series.Name)...)
	}
	if err := results.WriteAtomic(filepath.Join(dir, AmdahlFile), func(w io.Writer) error {
		return results.WriteCSV(w, amdahl)
	}); err != nil {
		return err
	}
	return results.WriteParquet(filepath.Join(dir, ScalingFile), rows)
}

// newerExperiments counts the experiment.json files written after summary_metrics.parquet.
func newerExperiments(o Options) int {
	st, err := os.Stat(filepath.Join(o.out(), aggregate.SummaryParquet))
	if err != nil {
		return 0
	}
	paths, _ := filepath.Glob(filepath.Join(o.Results, results.RawDir, "*", results.ExperimentFile))
	n := 0
	for _, p := range paths {
		if e, err := os.Stat(p); err == nil && e.ModTime().After(st.ModTime()) {
			n++
		}
	}
	return n
}

// withNotes marks the points the series diagnosis flagged (capacity effect, suspect).
func withNotes(rows []scaling.ScalingRow, d diagnose.Diagnosis, series string) []scaling.ScalingRow {
	for _, sd := range d.Series {
		if sd.Series != series {
			continue
		}
		for i := range rows {
			rows[i].PointNote = sd.PointNotes[int(rows[i].GPUs)]
		}
	}
	return rows
}
