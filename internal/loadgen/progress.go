package loadgen

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/llmscale/llmscale/internal/results"
)

// Snapshot is the state of a run at one moment, for live display.
type Snapshot struct {
	Phase   string        // waiting | warmup | measure | cooldown | draining | done
	Elapsed time.Duration // since the start
	Left    time.Duration // until sending stops; while draining, until the grace period ends
	Total   time.Duration // warm-up + run time + cool-down
	Limit   int64         // the requests the load ends after (MaxRequests); 0: none

	Users        int64 // users started (users mode)
	Sent         int64
	InFlight     int64
	Done         int64 // succeeded
	Failed       int64
	NotSent      int64
	OutputTokens int64

	ReqRate    float64       // completed requests/s over the last few seconds
	OutTokRate float64       // output tokens/s over the last few seconds
	TTFTP50    time.Duration // median TTFT of the last 1,024 successful requests
}

// Progress returns the run's state now. It is cheap and safe to call from any goroutine.
func (r *Runner) Progress() Snapshot { return r.prog.snapshot() }

// progress holds the live counters. Request goroutines update them with atomics; the
// snapshot's rates come from samples taken at snapshot time.
type progress struct {
	start                              atomic.Pointer[time.Time]
	warmup, measureEnd, sendEnd, grace time.Duration
	limit                              int64
	stoppedAt                          atomic.Int64 // offset of a Ctrl-C; 0 before

	users, sent, inflight, done, failed, notSent, outTokens atomic.Int64
	peakInflight                                            atomic.Int64
	draining, ended                                         atomic.Bool

	mu      sync.Mutex
	ttft    [1024]int64
	ttftN   int
	samples []sample
}

type sample struct {
	at           time.Time
	done, tokens int64
}

func (p *progress) begin(start time.Time, c Config) {
	p.warmup, p.measureEnd, p.sendEnd, p.grace = c.Warmup, c.Warmup+c.RunTime, c.sendWindow(), c.Grace
	p.limit = int64(c.maxRequests())
	p.start.Store(&start)
}

func (p *progress) end() { p.ended.Store(true) }

func (p *progress) stop(at time.Duration) {
	p.stoppedAt.Store(int64(at))
	p.draining.Store(true)
}

func (p *progress) began() {
	p.sent.Add(1)
	raisePeak(&p.peakInflight, p.inflight.Add(1))
}

// finished counts a request that ended.
func (p *progress) finished(rec *results.Request) {
	switch {
	case rec.ErrorKind == results.ErrorNotSent:
		p.notSent.Add(1)
		return
	case rec.OK():
		p.done.Add(1)
		p.outTokens.Add(int64(rec.OutputTokens))
		p.mu.Lock()
		p.ttft[p.ttftN%len(p.ttft)] = rec.TTFTNs
		p.ttftN++
		p.mu.Unlock()
	default:
		p.failed.Add(1)
	}
	p.inflight.Add(-1)
}

func (p *progress) snapshot() Snapshot {
	s := Snapshot{Users: p.users.Load(), Sent: p.sent.Load(), InFlight: p.inflight.Load(), Done: p.done.Load(),
		Failed: p.failed.Load(), NotSent: p.notSent.Load(), OutputTokens: p.outTokens.Load(), Phase: "waiting"}
	start := p.start.Load()
	if start == nil {
		return s
	}
	now := time.Now()
	s.Elapsed, s.Total, s.Limit = now.Sub(*start), p.sendEnd, p.limit
	s.Phase, s.Left = p.phase(s.Elapsed)
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.samples) == 0 { // the start is the first look's base: nothing had completed then
		p.samples = append(p.samples, sample{at: *start})
	}
	s.ReqRate, s.OutTokRate = p.rates(sample{at: now, done: s.Done, tokens: s.OutputTokens})
	s.TTFTP50 = p.ttftMedian()
	return s
}

func (p *progress) phase(elapsed time.Duration) (string, time.Duration) {
	switch {
	case p.ended.Load():
		return "done", 0
	case p.draining.Load():
		return "draining", max(time.Duration(p.stoppedAt.Load())+p.grace-elapsed, 0)
	case elapsed >= p.sendEnd:
		return "draining", max(p.sendEnd+p.grace-elapsed, 0)
	case elapsed < p.warmup:
		return results.PhaseWarmup, p.sendEnd - elapsed
	case elapsed < p.measureEnd:
		return results.PhaseMeasure, p.sendEnd - elapsed
	}
	return results.PhaseCooldown, p.sendEnd - elapsed
}

// rates are over about the last five seconds (samples taken at most every 250 ms). The oldest
// sample is dropped only while the next one is old enough to serve as the base, so a caller
// that snapshots every 10 s (a campaign's log line) gets the rate over those 10 s, not 0.
func (p *progress) rates(now sample) (req, tok float64) {
	if n := len(p.samples); n == 0 || now.at.Sub(p.samples[n-1].at) >= 250*time.Millisecond {
		p.samples = append(p.samples, now)
	}
	for len(p.samples) > 2 && now.at.Sub(p.samples[1].at) >= 5*time.Second {
		p.samples = p.samples[1:]
	}
	old := p.samples[0]
	dt := now.at.Sub(old.at).Seconds()
	if dt <= 0 {
		return 0, 0
	}
	return float64(now.done-old.done) / dt, float64(now.tokens-old.tokens) / dt
}

func (p *progress) ttftMedian() time.Duration {
	n := min(p.ttftN, len(p.ttft))
	if n == 0 {
		return 0
	}
	v := slices.Clone(p.ttft[:n])
	slices.Sort(v)
	return time.Duration(v[n/2])
}
