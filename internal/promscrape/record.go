package promscrape

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/llmscale/llmscale/internal/results"
)

// Rows turns one scrape into rows of server_metrics.parquet: one per sample, then
// llmscale's own scrape series (up, duration, samples). seq is the grid index (-1 for a
// snapshot), at the time the rows are stamped with (the grid point, or when a snapshot was
// sent) and start the beginning of the measured window that offset_ns counts from. A failed
// scrape (err != nil) gives one llmscale:scrape_up row of value 0 carrying the error.
func Rows(expID, phase string, seq int64, at, start time.Time, snap Snapshot, err error) []results.ServerMetric {
	base := results.ServerMetric{ExpID: expID, Phase: phase, Scrape: seq,
		TimeUnixNs: at.UnixNano(), OffsetNs: int64(at.Sub(start))}
	if err != nil {
		row := ownRow(base, MetricScrapeUp, 0)
		row.Error = err.Error()
		return []results.ServerMetric{row}
	}
	rows := make([]results.ServerMetric, 0, len(snap.Samples)+3)
	for _, s := range snap.Samples {
		row := base
		row.Name, row.OriginalName, row.Type, row.Value = s.Name, s.OriginalName, s.Type, s.Value
		row.Labels, row.LabelMap = FormatLabels(s.Labels), s.Labels.Map()
		row.Engine, row.ModelName = s.Labels.Get(LabelEngine), s.Labels.Get(LabelModelName)
		rows = append(rows, row)
	}
	return append(rows,
		ownRow(base, MetricScrapeUp, 1),
		ownRow(base, MetricScrapeDuration, snap.Duration.Seconds()),
		ownRow(base, MetricScrapeSamples, float64(len(snap.Samples))))
}

func ownRow(base results.ServerMetric, name string, v float64) results.ServerMetric {
	base.Name, base.OriginalName, base.Type, base.Value = name, name, TypeGauge, v
	return base
}

// ScrapeRows is Rows for a scrape on the grid (phase "during"), stamped with its grid point.
func ScrapeRows(expID string, start time.Time, sc Scrape) []results.ServerMetric {
	return Rows(expID, results.PhaseDuring, sc.Seq, sc.Due, start, sc.Snapshot, sc.Err)
}

// RecorderOptions configure a Recorder.
type RecorderOptions struct {
	Path       string // where server_metrics.parquet goes (written atomically on End)
	Experiment string // the exp_id column
}

// RecordStats tells what a Recorder wrote.
type RecordStats struct {
	Rows           int64
	Scrapes        int // grid scrapes, failed ones included
	FailedScrapes  int
	BeforeErr      error // the before snapshot's failure, if any (also recorded as a row)
	AfterErr       error
	WindowStart    time.Time
	WindowDuration time.Duration
	BeforeAt       time.Time // when the before snapshot was sent
	AfterAt        time.Time // when the after snapshot was sent
}

// Recorder writes one experiment's server_metrics.parquet: Begin takes the before snapshot
// and starts the grid at the start of the measured window; End stops the grid, takes the
// after snapshot and moves the file into place. Rows are streamed to the file as scrapes
// arrive. A failed snapshot or scrape is recorded as a row and does not stop the recording;
// only a failure to write the file is an error.
type Recorder struct {
	s     *Scraper
	opts  RecorderOptions
	w     *results.ParquetWriter[results.ServerMetric]
	start time.Time
	stop  context.CancelFunc
	done  chan struct{}
	mu    sync.Mutex // guards stats and writeErr
	stats RecordStats
	err   error
}

// NewRecorder creates the recorder and its (not yet visible) file.
func NewRecorder(s *Scraper, opts RecorderOptions) (*Recorder, error) {
	if opts.Path == "" {
		return nil, errors.New("promscrape: recorder needs a path")
	}
	w, err := results.NewParquetWriter[results.ServerMetric](opts.Path)
	if err != nil {
		return nil, err
	}
	return &Recorder{s: s, opts: opts, w: w}, nil
}

// Begin takes the before snapshot, then scrapes on the grid from the window's start, which is
// the clock's time once the snapshot is done. It returns that start; the grid runs until End
// or until ctx ends.
func (r *Recorder) Begin(ctx context.Context) time.Time {
	snap, err := r.s.Snapshot(ctx)
	r.start = r.s.opts.Clock.Now()
	r.write(Rows(r.opts.Experiment, results.PhaseBefore, -1, snap.Time, r.start, snap, err))
	r.stats.BeforeErr, r.stats.WindowStart, r.stats.BeforeAt = err, r.start, snap.Time
	gridCtx, stop := context.WithCancel(ctx)
	r.stop, r.done = stop, make(chan struct{})
	scrapes := r.s.Run(gridCtx, r.start)
	go func() {
		defer close(r.done)
		for sc := range scrapes {
			r.write(ScrapeRows(r.opts.Experiment, r.start, sc))
			r.mu.Lock()
			r.stats.Scrapes++
			if sc.Err != nil {
				r.stats.FailedScrapes++
			}
			r.mu.Unlock()
		}
	}()
	return r.start
}

// Stats is what the recorder has recorded so far.
func (r *Recorder) Stats() RecordStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

// End stops the grid, takes the after snapshot and commits the file. The recorder is done
// after End; on a write error the file is dropped.
func (r *Recorder) End(ctx context.Context) (RecordStats, error) {
	if r.stop == nil {
		return RecordStats{}, errors.New("promscrape: End without Begin")
	}
	r.stop()
	<-r.done
	r.stats.WindowDuration = r.s.opts.Clock.Now().Sub(r.start)
	snap, err := r.s.Snapshot(ctx)
	r.write(Rows(r.opts.Experiment, results.PhaseAfter, -1, snap.Time, r.start, snap, err))
	r.stats.AfterErr, r.stats.AfterAt = err, snap.Time
	r.stats.Rows = r.w.Rows()
	if r.err != nil {
		r.w.Abort()
		return r.stats, r.err
	}
	if err := r.w.Close(); err != nil {
		return r.stats, fmt.Errorf("write server metrics: %w", err)
	}
	return r.stats, nil
}

// Abort stops the grid and drops the file.
func (r *Recorder) Abort() {
	if r.stop != nil {
		r.stop()
		<-r.done
	}
	r.w.Abort()
}

func (r *Recorder) write(rows []results.ServerMetric) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return
	}
	r.err = r.w.Write(rows)
}
