package sim

import "time"

// Request is one request inside the model. Times are simulated offsets from the start.
type Request struct {
	Prompt    int // prompt tokens
	MaxTokens int // the request's max_tokens
	Output    int // tokens it will generate (≤ MaxTokens); fewer means it stops at EOS
	// Tag is the caller's; the model never reads it.
	Tag any

	id        uint64
	api       int // API server that owns the request
	rank      int // DP rank it was routed to
	state     reqState
	arrival   time.Duration // reached the API server
	queued    time.Duration // reached the engine
	scheduled time.Duration // first scheduled; -1 until then
	firstTok  time.Duration // engine produced the first token
	lastTok   time.Duration // engine produced the latest token
	computed  int           // tokens whose KV is computed
	generated int           // output tokens the engine produced
	delivered int           // output tokens the API server handed to the client
	firstOut  time.Duration // first delivery
	lastOut   time.Duration // latest delivery
	blocks    int           // KV blocks held
	preempts  int
}

type reqState uint8

const (
	stateFrontend reqState = iota // being tokenised by the API server
	stateWaiting
	stateRunning
	stateDone // finished in the engine; output may still be on its way
	stateAborted
)

// total is the number of tokens whose KV the request needs before its next sample.
func (r *Request) total() int { return r.Prompt + r.generated }

// Rank is the DP rank the request runs on.
func (r *Request) Rank() int { return r.rank }

// ID is the request's number in submission order, from 1.
func (r *Request) ID() uint64 { return r.id }

// Arrival is when the request reached the API server, in simulated time.
func (r *Request) Arrival() time.Duration { return r.arrival }

// FirstDelivered is when the API server handed the first token to the client.
func (r *Request) FirstDelivered() time.Duration { return r.firstOut }

// LastDelivered is when the API server handed the latest token to the client.
func (r *Request) LastDelivered() time.Duration { return r.lastOut }

// Delivered is how many output tokens reached the client so far.
func (r *Request) Delivered() int { return r.delivered }

// Preemptions is how often the engine preempted the request.
func (r *Request) Preemptions() int { return r.preempts }

// Phases are the engine-side timestamps vLLM's request histograms are made of.
type Phases struct {
	Queued, Scheduled, FirstToken, LastToken time.Duration
}

// Phases returns the request's engine timestamps.
func (r *Request) Phases() Phases {
	return Phases{Queued: r.queued, Scheduled: r.scheduled, FirstToken: r.firstTok, LastToken: r.lastTok}
}

// scheduled is one sequence's share of a step.
type scheduledSeq struct {
	r      *Request
	before int // tokens computed before the step
	n      int // tokens computed in the step
}

// engine is one DP rank's scheduler in the style of vLLM V1: decode-first continuous batching
// with chunked prefill under a token budget, paged KV blocks and recompute preemption.
type engine struct {
	rank       int
	hw         Hardware
	maxSeqs    int
	budget     int // max-num-batched-tokens
	blockSize  int
	blocks     int // KV blocks in total
	freeBlocks int

	waiting []*Request // FIFO; preempted requests go back to the front
	running []*Request // in admission order; the newest is last
	plan    []scheduledSeq
	busy    bool
	shape   Step
}

func newEngine(rank int, hw Hardware, maxSeqs, budget, blockSize, blocks int) *engine {
	return &engine{rank: rank, hw: hw, maxSeqs: maxSeqs, budget: budget, blockSize: blockSize,
		blocks: blocks, freeBlocks: blocks}
}

func (e *engine) blocksFor(tokens int) int { return (tokens + e.blockSize - 1) / e.blockSize }

// enqueue adds a request that reached the engine.
func (e *engine) enqueue(r *Request, now time.Duration) {
	r.rank, r.state, r.queued = e.rank, stateWaiting, now
	e.waiting = append(e.waiting, r)
}

// schedule picks the next step at now; it reports false when there is nothing to run, and
// the number of requests it preempted.
func (e *engine) schedule(now time.Duration) (ok bool, preempted int) {
	e.plan, e.shape = e.plan[:0], Step{}
	budget := e.budget
	budget, preempted = e.scheduleRunning(budget)
	if preempted == 0 {
		e.scheduleWaiting(budget, now)
	}
	for _, s := range e.plan {
		e.shape.Add(s.before, s.n, s.before+s.n == s.r.total())
	}
	return len(e.plan) > 0, preempted
}

// scheduleRunning gives every running sequence its next tokens, preempting the newest ones
// when the KV cache cannot hold them.
func (e *engine) scheduleRunning(budget int) (int, int) {
	preempted := 0
	for i := 0; i < len(e.running) && budget > 0; i++ {
		r := e.running[i]
		n := min(r.total()-r.computed, budget)
		for e.blocksFor(r.computed+n)-r.blocks > e.freeBlocks {
			victim := e.running[len(e.running)-1]
			e.preempt(victim)
			preempted++
			if victim == r {
				return budget, preempted
			}
		}
		e.allocate(r, n)
		e.plan = append(e.plan, scheduledSeq{r: r, before: r.computed, n: n})
		budget -= n
	}
	return budget, preempted
}

// scheduleWaiting admits waiting requests while the batch cap, the token budget and the KV
// cache allow, with chunked prefill.
func (e *engine) scheduleWaiting(budget int, now time.Duration) {
	for len(e.waiting) > 0 && len(e.running) < e.maxSeqs && budget > 0 {
		r := e.waiting[0]
		n := min(r.total()-r.computed, budget)
		if e.blocksFor(r.computed+n)-r.blocks > e.freeBlocks {
			return // waiting for KV capacity
		}
		e.waiting[0] = nil
		e.waiting = e.waiting[1:]
		r.state = stateRunning
		if r.scheduled < 0 {
			r.scheduled = now
		}
		e.running = append(e.running, r)
		e.allocate(r, n)
		e.plan = append(e.plan, scheduledSeq{r: r, before: r.computed, n: n})
		budget -= n
	}
}

func (e *engine) allocate(r *Request, n int) {
	need := e.blocksFor(r.computed+n) - r.blocks
	if need > 0 {
		r.blocks += need
		e.freeBlocks -= need
	}
}

func (e *engine) release(r *Request) {
	e.freeBlocks += r.blocks
	r.blocks = 0
}

// preempt stops the newest running request, frees its KV blocks and puts it back at the
// front of the queue; it is recomputed from scratch when it runs again, as vLLM V1 does.
func (e *engine) preempt(r *Request) {
	e.running = e.running[:len(e.running)-1]
	e.release(r)
	r.computed = 0
	r.preempts++
	r.state = stateWaiting
	e.waiting = append([]*Request{r}, e.waiting...)
}

// finish applies the step that ends at now and calls emit for every request that produced a
// token (done reports that it generated its last one).
func (e *engine) finish(now time.Duration, emit func(r *Request, done bool)) {
	for _, s := range e.plan {
		r := s.r
		if r.state != stateRunning {
			continue // aborted during the step
		}
		r.computed += s.n
		if r.computed < r.total() {
			continue // a prefill chunk that did not reach the end of the prompt
		}
		r.generated++
		if r.generated == 1 {
			r.firstTok = now
		}
		r.lastTok = now
		done := r.generated >= r.Output
		if done {
			r.state = stateDone
			e.release(r)
		}
		emit(r, done)
	}
	e.compactRunning()
}

// compactRunning drops finished and aborted requests, keeping admission order.
func (e *engine) compactRunning() {
	kept := e.running[:0]
	for _, r := range e.running {
		if r.state == stateRunning {
			kept = append(kept, r)
		}
	}
	clear(e.running[len(kept):])
	e.running = kept
}

// abort removes a request wherever it is in the engine.
func (e *engine) abort(r *Request) {
	switch r.state {
	case stateWaiting:
		for i, w := range e.waiting {
			if w == r {
				e.waiting = append(e.waiting[:i], e.waiting[i+1:]...)
				break
			}
		}
	case stateRunning:
		e.release(r)
		r.state = stateAborted
		e.compactRunning()
	}
	r.state = stateAborted
}

// usage is the fraction of KV blocks in use.
func (e *engine) usage() float64 {
	if e.blocks == 0 {
		return 0
	}
	return float64(e.blocks-e.freeBlocks) / float64(e.blocks)
}

func (e *engine) idle() bool { return len(e.waiting) == 0 && len(e.running) == 0 }
