// Package promscrape scrapes a server's Prometheus /metrics on an aligned grid during an
// experiment, with snapshots just before and just after the measured window; parses the
// exposition with prometheus/common's expfmt; renames vLLM's old metric names to the new ones;
// writes the samples to server_metrics.parquet; and computes from those rows what the
// aggregation needs (per-experiment counter and histogram deltas summed over data-parallel
// ranks, gauge statistics over the window, the configuration the server reports).
package promscrape

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Defaults for Options.
const (
	DefaultInterval        = time.Second
	DefaultSnapshotTimeout = 10 * time.Second
	DefaultMaxBodyBytes    = 64 << 20
	// acceptHeader asks for the text format; OpenMetrics or protobuf are still parsed when the
	// server sends them anyway.
	acceptHeader = "text/plain;version=0.0.4;q=1,*/*;q=0.1"
)

// Clock tells the time and waits. The scraper reads time only through it, so tests can
// drive it (or run under testing/synctest with RealClock).
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// RealClock is the time package's clock.
type RealClock struct{}

// Now is time.Now.
func (RealClock) Now() time.Time { return time.Now() }

// After is time.After.
func (RealClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Options configure a Scraper. Zero values take the defaults.
type Options struct {
	URL             string        // the /metrics URL (required)
	Client          *http.Client  // required: the caller owns it and sizes its transport
	Clock           Clock         // default RealClock
	Interval        time.Duration // the grid step; default DefaultInterval
	Timeout         time.Duration // one grid scrape's limit; default 80% of Interval, must be < Interval
	SnapshotTimeout time.Duration // a before/after snapshot's limit; default DefaultSnapshotTimeout
	MaxBodyBytes    int64         // a larger response is a failed scrape; default DefaultMaxBodyBytes
}

// Scraper reads one server's /metrics.
type Scraper struct {
	opts Options
}

// New checks opts and applies the defaults.
func New(opts Options) (*Scraper, error) {
	if opts.URL == "" {
		return nil, errors.New("promscrape: no metrics URL")
	}
	if opts.Client == nil {
		return nil, errors.New("promscrape: no HTTP client")
	}
	if opts.Clock == nil {
		opts.Clock = RealClock{}
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.Timeout <= 0 {
		opts.Timeout = opts.Interval * 8 / 10
	}
	if opts.Timeout >= opts.Interval {
		return nil, fmt.Errorf("promscrape: scrape timeout %v must be shorter than the interval %v", opts.Timeout, opts.Interval)
	}
	if opts.SnapshotTimeout <= 0 {
		opts.SnapshotTimeout = DefaultSnapshotTimeout
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	return &Scraper{opts: opts}, nil
}

// Interval is the grid step in use.
func (s *Scraper) Interval() time.Duration { return s.opts.Interval }

// Snapshot is the result of one successful scrape.
type Snapshot struct {
	Time     time.Time     // when the request was sent (carries the monotonic reading)
	Duration time.Duration // how long the scrape took, parsing included
	Samples  []Sample
}

// Scrape is one scrape on the grid, failed or not.
type Scrape struct {
	Seq      int64         // k: the scrape was due at start + k·interval
	Due      time.Time     // start + k·interval
	Offset   time.Duration // k·interval
	Snapshot               // Snapshot.Time is when it was actually sent
	Err      error         // nil on success; Samples is then empty
}

// Snapshot scrapes once now, within SnapshotTimeout: the campaign calls it just before and
// just after the measured window.
func (s *Scraper) Snapshot(ctx context.Context) (Snapshot, error) {
	return s.scrape(ctx, s.opts.SnapshotTimeout)
}

func (s *Scraper) scrape(ctx context.Context, timeout time.Duration) (Snapshot, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	sent := s.opts.Clock.Now()
	samples, err := s.fetch(ctx)
	snap := Snapshot{Time: sent, Duration: s.opts.Clock.Now().Sub(sent), Samples: samples}
	if err != nil {
		return snap, fmt.Errorf("scrape %s: %w", s.opts.URL, err)
	}
	return snap, nil
}

func (s *Scraper) fetch(ctx context.Context) ([]Sample, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.opts.URL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", acceptHeader)
	resp, err := s.opts.Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return nil, fmt.Errorf("unexpected status %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, s.opts.MaxBodyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if int64(len(body)) > s.opts.MaxBodyBytes {
		return nil, fmt.Errorf("response larger than %d bytes", s.opts.MaxBodyBytes)
	}
	return ParseContext(ctx, body, resp.Header.Get("Content-Type"))
}

// Run scrapes on the grid start + k·interval (k = 0, 1, …) until ctx ends, and sends every
// scrape, failed ones included, on the returned channel, which it closes when it stops. Each
// grid scrape has Timeout, shorter than the interval, so scrapes never overlap. A grid point
// already past when the previous scrape is done (a slow reader of the channel) is skipped,
// never made up for later: the next scrape waits for the next grid point.
func (s *Scraper) Run(ctx context.Context, start time.Time) <-chan Scrape {
	out := make(chan Scrape)
	go func() {
		defer close(out)
		for k := s.nextSeq(start, 0); ; k = s.nextSeq(start, k+1) {
			due := start.Add(time.Duration(k) * s.opts.Interval)
			if !s.waitUntil(ctx, due) {
				return
			}
			sc := Scrape{Seq: k, Due: due, Offset: time.Duration(k) * s.opts.Interval}
			sc.Snapshot, sc.Err = s.scrape(ctx, s.opts.Timeout)
			if ctx.Err() != nil {
				return // cut short by the end of the window: not a failure of the server
			}
			select {
			case out <- sc:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// nextSeq is the first k ≥ from whose grid point is not already past by more than the slack
// between the interval and the scrape timeout: a scrape started that late still ends before
// the next grid point. So k = 0, due at the very instant Run is called (the window's start,
// just after the before snapshot), is scraped although the clock has moved on by the time
// the goroutine runs.
func (s *Scraper) nextSeq(start time.Time, from int64) int64 {
	late := s.opts.Clock.Now().Sub(start) - time.Duration(from)*s.opts.Interval
	if late <= s.opts.Interval-s.opts.Timeout {
		return from
	}
	k := from + int64((late+s.opts.Interval-1)/s.opts.Interval)
	return k
}

func (s *Scraper) waitUntil(ctx context.Context, due time.Time) bool {
	if ctx.Err() != nil {
		return false
	}
	d := due.Sub(s.opts.Clock.Now())
	if d <= 0 {
		return true
	}
	select {
	case <-s.opts.Clock.After(d):
		return true
	case <-ctx.Done():
		return false
	}
}
