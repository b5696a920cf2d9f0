package promscrape

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newScraper(t *testing.T, client *http.Client, url string) *Scraper {
	t.Helper()
	s, err := New(Options{URL: url + "/metrics", Client: client})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRunScrapesOnAlignedGrid(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := newFakeVLLM()
		f.fail[2] = http.StatusServiceUnavailable
		f.hang[3] = true
		client, url := startServer(t, f)
		s := newScraper(t, client, url)
		time.Sleep(300 * time.Millisecond)
		start := time.Now().Add(200 * time.Millisecond) // 0.5 s after the server started
		ctx, cancel := context.WithDeadline(t.Context(), start.Add(4500*time.Millisecond))
		defer cancel()

		var got []Scrape
		for sc := range s.Run(ctx, start) {
			got = append(got, sc)
		}
		if len(got) != 5 {
			t.Fatalf("%d scrapes in 4.5 s, want 5 (k = 0…4)", len(got))
		}
		for k, sc := range got {
			due := start.Add(time.Duration(k) * time.Second)
			if sc.Seq != int64(k) || !sc.Due.Equal(due) || !sc.Time.Equal(due) || sc.Offset != time.Duration(k)*time.Second {
				t.Errorf("scrape %d: seq %d due %v sent %v offset %v, want on the grid at %v", k, sc.Seq, sc.Due, sc.Time, sc.Offset, due)
			}
		}
		if err := got[2].Err; err == nil || !strings.Contains(err.Error(), "503") {
			t.Errorf("scrape 2 error = %v, want the 503", err)
		}
		if err := got[3].Err; !errors.Is(err, context.DeadlineExceeded) || got[3].Duration != 800*time.Millisecond {
			t.Errorf("scrape 3 = %v after %v, want a timeout after 800ms (80%% of the interval)", err, got[3].Duration)
		}
		for _, k := range []int{0, 1, 4} {
			if got[k].Err != nil {
				t.Fatalf("scrape %d failed: %v", k, got[k].Err)
			}
			// engine 0 generates 100 tokens/s and had 10 s of history when the test began
			want := 100 * (10.5 + float64(k))
			if v := one(t, got[k].Samples, MetricGenerationTokens, LabelEngine, "0").Value; v != want {
				t.Errorf("scrape %d: generation tokens %v, want %v", k, v, want)
			}
		}
	})
}

func TestRunSkipsGridPointsMissedBySlowReader(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		client, url := startServer(t, newFakeVLLM())
		s := newScraper(t, client, url)
		start := time.Now()
		ctx, cancel := context.WithDeadline(t.Context(), start.Add(5500*time.Millisecond))
		defer cancel()
		var seqs []int64
		for sc := range s.Run(ctx, start) {
			seqs = append(seqs, sc.Seq)
			if !sc.Due.Equal(start.Add(time.Duration(sc.Seq) * time.Second)) {
				t.Errorf("scrape %d due at %v, off the grid", sc.Seq, sc.Due.Sub(start))
			}
			if sc.Seq == 0 {
				time.Sleep(2500 * time.Millisecond) // the reader stalls
			}
		}
		want := []int64{0, 1, 3, 4, 5} // 1 waited in the channel; 2 was past when it was taken
		if len(seqs) != len(want) {
			t.Fatalf("scraped %v, want %v", seqs, want)
		}
		for i := range want {
			if seqs[i] != want[i] {
				t.Fatalf("scraped %v, want %v", seqs, want)
			}
		}
	})
}

func TestSnapshotError(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := newFakeVLLM()
		f.fail[0] = http.StatusInternalServerError
		client, url := startServer(t, f)
		s := newScraper(t, client, url)
		if _, err := s.Snapshot(t.Context()); err == nil || !strings.Contains(err.Error(), "500") {
			t.Fatalf("Snapshot error = %v, want the 500", err)
		}
		snap, err := s.Snapshot(t.Context())
		if err != nil || len(snap.Samples) == 0 {
			t.Fatalf("second Snapshot = %d samples, %v", len(snap.Samples), err)
		}
	})
}

func TestNewChecksOptions(t *testing.T) {
	t.Parallel()
	client := &http.Client{}
	for _, c := range []struct {
		name string
		opts Options
		want string
	}{
		{"no URL", Options{Client: client}, "no metrics URL"},
		{"no client", Options{URL: "http://x/metrics"}, "no HTTP client"},
		{"timeout not shorter than interval", Options{URL: "u", Client: client, Interval: time.Second, Timeout: time.Second}, "shorter than the interval"},
	} {
		if _, err := New(c.opts); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: New = %v, want an error about %q", c.name, err, c.want)
		}
	}
	s, err := New(Options{URL: "u", Client: client, Interval: 250 * time.Millisecond})
	if err != nil || s.Interval() != 250*time.Millisecond || s.opts.Timeout != 200*time.Millisecond {
		t.Errorf("New with a 250ms interval: %v, timeout %v", err, s.opts.Timeout)
	}
}

// The recorder starts the grid at the instant its before snapshot ended, so the clock has
// moved on when Run begins: k = 0 must still be scraped (issue 12: it never was).
func TestRunScrapesGridPointZeroWhenSlightlyLate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		late    time.Duration
		wantSeq int64
	}{
		{0, 0},
		{50 * time.Millisecond, 0},
		{200 * time.Millisecond, 0},  // exactly the slack: interval 1 s − timeout 0.8 s
		{250 * time.Millisecond, 1},  // past the slack: the scrape could overlap the next one
		{1500 * time.Millisecond, 2}, // k = 1 is past too
	} {
		t.Run(tc.late.String(), func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				client, url := startServer(t, newFakeVLLM())
				s := newScraper(t, client, url)
				start := time.Now()
				time.Sleep(tc.late)
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				sc := <-s.Run(ctx, start)
				if sc.Seq != tc.wantSeq || sc.Err != nil {
					t.Errorf("first scrape %d late: seq %d (err %v), want seq %d", tc.late, sc.Seq, sc.Err, tc.wantSeq)
				}
			})
		})
	}
}
