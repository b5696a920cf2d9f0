package sim

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// Workload is a load to run through the performance model in simulated time, with no HTTP:
// the planning view of the simulator, and what its tests use.
type Workload struct {
	// Concurrency is the number of closed-loop clients: each sends its next request as soon as
	// the previous one is answered. Exactly one of Concurrency and Rate is set.
	Concurrency int
	// Rate is an open-loop Poisson arrival rate, in requests per simulated second.
	Rate         float64
	PromptTokens int
	OutputTokens int           // every request generates exactly this many (ignore_eos)
	Warmup       time.Duration // simulated time before the measured window
	Duration     time.Duration // the measured window
	Seed         uint64        // for Poisson arrivals
}

// Report summarises a simulated run over its measured window. Requests count when they finish
// inside the window; tokens when they are delivered inside it.
type Report struct {
	Completed        int
	OutputTokens     int
	Throughput       float64 // output tokens/s
	RequestRate      float64 // completed requests/s
	TTFT             Summary
	TPOT             Summary
	E2E              Summary
	Queue            Summary // engine queue time (vLLM's request_queue_time)
	Preemptions      int
	MeanBatch        float64 // sequences per engine step
	MeanStepTokens   float64
	GPUBusy          float64 // fraction of the window the engines were stepping, mean over ranks
	FrontendBusy     float64 // fraction of the window API server 0 was busy
	MaxWaiting       int     // the longest engine queue seen at a step start (any rank)
	EffectiveBlocks  int     // KV blocks per rank
	EffectiveMaxSeqs int
}

// Summary is a distribution's mean and percentiles.
type Summary struct {
	Mean, P50, P90, P99 time.Duration
	N                   int
}

// Simulate runs w through the model of cfg and reports what clients would see. It is pure:
// the same cfg and w always give the same report.
func Simulate(cfg Config, w Workload) (Report, error) {
	eff, err := Resolve(cfg)
	if err != nil {
		return Report{}, err
	}
	if (w.Concurrency > 0) == (w.Rate > 0) {
		return Report{}, errors.New("simulate: set exactly one of concurrency and rate")
	}
	if w.PromptTokens < 1 || w.OutputTokens < 1 || w.Duration <= 0 {
		return Report{}, errors.New("simulate: prompt tokens, output tokens and duration must be positive")
	}
	if w.PromptTokens+w.OutputTokens > eff.MaxModelLen {
		return Report{}, errors.New("simulate: prompt + output tokens exceed max-model-len")
	}
	r := newRunner(eff, w)
	r.run()
	return r.report(), nil
}

// runner drives a Cluster with virtual clients.
type runner struct {
	eff     Effective
	w       Workload
	c       *Cluster
	from    time.Duration // window start
	to      time.Duration // window end
	pending []time.Duration
	rng     *rand.Rand
	busy0   time.Duration // API server 0's busy time when the window opened

	rep                 Report
	ttft, tpot, e2e, qu []time.Duration
	steps, seqSum       int
	tokSum              int
	busy                []time.Duration
	stepSeqs            []int
}

func newRunner(eff Effective, w Workload) *runner {
	r := &runner{eff: eff, w: w, from: w.Warmup, to: w.Warmup + w.Duration,
		rng: rand.New(rand.NewPCG(w.Seed, 0x5eed)), busy: make([]time.Duration, eff.DP), busy0: -1}
	r.c = NewCluster(eff.ClusterConfig(), r)
	return r
}

func (r *runner) newRequest() *Request {
	return &Request{Prompt: r.w.PromptTokens, MaxTokens: r.w.OutputTokens, Output: r.w.OutputTokens}
}

func (r *runner) run() {
	if r.w.Concurrency > 0 {
		for range r.w.Concurrency {
			r.c.Submit(r.newRequest(), 0)
		}
		r.loop(func() (time.Duration, bool) { return 0, false })
		return
	}
	next := time.Duration(0)
	arrival := func() (time.Duration, bool) {
		at := next
		next += seconds(r.rng.ExpFloat64() / r.w.Rate)
		return at, true
	}
	r.loop(arrival)
}

// loop advances the cluster event by event, feeding it closed-loop resubmissions and open-loop
// arrivals, until the window ends.
func (r *runner) loop(arrival func() (time.Duration, bool)) {
	nextArrival, open := arrival()
	for {
		t, ok := r.c.Next()
		if open && (!ok || nextArrival <= t) {
			if nextArrival > r.to {
				return
			}
			r.c.Submit(r.newRequest(), nextArrival)
			nextArrival, open = arrival()
			continue
		}
		if !ok || t > r.to {
			return
		}
		if t >= r.from && r.busy0 < 0 {
			r.busy0 = r.c.FrontendBusy(0)
		}
		r.c.AdvanceTo(t)
		for _, at := range r.pending {
			r.c.Submit(r.newRequest(), at)
		}
		r.pending = r.pending[:0]
	}
}

func (r *runner) in(t time.Duration) bool { return t >= r.from && t < r.to }

// Deliver implements Observer.
func (r *runner) Deliver(q *Request, n int, done bool, at time.Duration) {
	if r.in(at) {
		r.rep.OutputTokens += n
	}
	if q.delivered == n && r.in(at) {
		r.ttft = append(r.ttft, at-q.arrival)
	}
	if !done {
		return
	}
	if r.w.Concurrency > 0 {
		r.pending = append(r.pending, at)
	}
	if !r.in(at) {
		return
	}
	r.rep.Completed++
	r.e2e = append(r.e2e, at-q.arrival)
	r.qu = append(r.qu, q.scheduled-q.queued)
	if q.Output > 1 {
		r.tpot = append(r.tpot, (at-q.firstOut)/time.Duration(q.Output-1))
	}
}

// Step implements Observer.
func (r *runner) Step(rank, tokens int, start, end time.Duration) {
	from, to := max(start, r.from), min(end, r.to)
	if to > from {
		r.busy[rank] += to - from
	}
	if !r.in(start) {
		return
	}
	st := r.c.Engine(rank)
	r.steps++
	r.seqSum += st.Running
	r.tokSum += tokens
	r.rep.MaxWaiting = max(r.rep.MaxWaiting, st.Waiting)
}

// Preempt implements Observer.
func (r *runner) Preempt(int, *Request) { r.rep.Preemptions++ }

func (r *runner) report() Report {
	rep := r.rep
	secs := r.w.Duration.Seconds()
	rep.Throughput = float64(rep.OutputTokens) / secs
	rep.RequestRate = float64(rep.Completed) / secs
	rep.TTFT, rep.TPOT, rep.E2E, rep.Queue = summarize(r.ttft), summarize(r.tpot), summarize(r.e2e), summarize(r.qu)
	if r.steps > 0 {
		rep.MeanBatch = float64(r.seqSum) / float64(r.steps)
		rep.MeanStepTokens = float64(r.tokSum) / float64(r.steps)
	}
	var busy time.Duration
	for _, b := range r.busy {
		busy += b
	}
	rep.GPUBusy = busy.Seconds() / secs / float64(len(r.busy))
	rep.FrontendBusy = math.Min(1, (r.c.FrontendBusy(0)-max(r.busy0, 0)).Seconds()/secs)
	rep.EffectiveBlocks, rep.EffectiveMaxSeqs = r.eff.NumGPUBlocks, r.eff.MaxNumSeqs
	return rep
}

func summarize(d []time.Duration) Summary {
	if len(d) == 0 {
		return Summary{}
	}
	s := slices.Clone(d)
	slices.Sort(s)
	var sum time.Duration
	for _, v := range s {
		sum += v
	}
	q := func(p float64) time.Duration { return s[min(len(s)-1, int(p*float64(len(s))))] }
	return Summary{Mean: sum / time.Duration(len(s)), P50: q(0.5), P90: q(0.9), P99: q(0.99), N: len(s)}
}
