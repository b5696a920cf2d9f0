package loadgen

import (
	"testing"
	"time"
)

// TestProgressRates: the rate is over the recent samples, whether the caller looks every 250 ms
// (a terminal) or every 10 s (a campaign's log line, which read 0 req/s when the only sample
// older than the window was dropped).
func TestProgressRates(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(0, 0)
	for _, tc := range []struct {
		name  string
		every time.Duration
		looks int
		want  float64 // requests/s; 10 requests complete every second
	}{
		{"terminal", 250 * time.Millisecond, 80, 10},
		{"log line", 10 * time.Second, 4, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var p progress
			var req float64
			for i := 0; i <= tc.looks; i++ {
				at := time.Duration(i) * tc.every
				req, _ = p.rates(sample{at: t0.Add(at), done: int64(at.Seconds() * 10)})
			}
			if req < tc.want*0.99 || req > tc.want*1.01 {
				t.Errorf("rate %v req/s, want %v", req, tc.want)
			}
			if span := p.samples[len(p.samples)-1].at.Sub(p.samples[0].at); span > 5*time.Second+tc.every {
				t.Errorf("samples span %v: the window does not slide", span)
			}
		})
	}
}
