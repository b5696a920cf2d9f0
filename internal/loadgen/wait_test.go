package loadgen

import (
	"context"
	"errors"
	"testing"
	"time"
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
