package loadgen

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/llmscale/llmscale/internal/stats"
)

// TestPreciseWaiter: never early, and a cancelled context ends the wait. (How late it is, is
// measured by BenchmarkOpenLoop, not asserted: real time on a shared machine.)
func TestPreciseWaiter(t *testing.T) {
	t.Parallel()
	w, release := Config{}.newWaiter()
	defer release()
	for range 20 {
		due := time.Now().Add(3 * time.Millisecond)
		if err := w.WaitUntil(t.Context(), due); err != nil {
			t.Fatal(err)
		}
		if early := time.Until(due); early > 0 {
			t.Fatalf("woke %v early", early)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(10*time.Millisecond, cancel)
	start := time.Now()
	if err := w.WaitUntil(ctx, start.Add(time.Hour)); !errors.Is(err, context.Canceled) || time.Since(start) > time.Minute {
		t.Fatalf("cancelled wait: %v after %v", err, time.Since(start))
	}
	if err := w.WaitUntil(t.Context(), start); err != nil {
		t.Fatalf("a moment in the past: %v", err)
	}
}

// BenchmarkWaiter measures how late each waiter wakes up in an otherwise idle process,
// waiting for moments 500 µs apart (2,000 requests/s).
//
//	go test ./internal/loadgen -run '^$' -bench Waiter -benchtime 2000x -count 5
func BenchmarkWaiter(b *testing.B) {
	precise, release := Config{}.newWaiter()
	defer release()
	for _, w := range []struct {
		name string
		w    Waiter
	}{{"timer", TimerWaiter{}}, {"precise", precise}} {
		b.Run("waiter="+w.name, func(b *testing.B) {
			var late []float64
			start := time.Now()
			i := 0
			for b.Loop() {
				i++
				due := start.Add(time.Duration(i) * 500 * time.Microsecond)
				_ = w.w.WaitUntil(context.Background(), due)
				late = append(late, float64(time.Since(due).Nanoseconds())/1e3)
			}
			s := stats.NewStat(late)
			b.ReportMetric(s.Median, "late-p50-µs")
			b.ReportMetric(s.P99, "late-p99-µs")
		})
	}
}
