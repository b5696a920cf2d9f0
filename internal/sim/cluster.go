package sim

import (
	"container/heap"
	"time"
)

// Observer hears what happens inside a Cluster, in simulated time. The Cluster calls it from
// the goroutine that drives it.
type Observer interface {
	// Deliver reports that the API server handed n new tokens of r to its client at; done
	// reports that they end the response.
	Deliver(r *Request, n int, done bool, at time.Duration)
	// Step reports an engine step of rank that started at start and computed tokens.
	Step(rank int, tokens int, start, end time.Duration)
	// Preempt reports that rank preempted a request.
	Preempt(rank int, r *Request)
}

// Cluster is the performance model of one vLLM server: API servers in front of DP engine
// ranks. It is a discrete-event simulation with no clock and no goroutines of its own: the
// caller submits requests at simulated times and advances time, so the same inputs always
// give the same outputs.
type Cluster struct {
	hw        Hardware
	costs     Costs
	engines   []*engine
	frontends []time.Duration // when each API server is next free
	feBusy    []time.Duration // work each API server was given
	obs       Observer
	gpus      *Activity // what the GPUs did, for the simulated GPU telemetry

	now     time.Duration
	events  eventHeap
	seq     uint64 // tie-breaker: events at the same time run in the order they were made
	nextID  uint64
	nextAPI int
}

// ClusterConfig is what a Cluster is made of.
type ClusterConfig struct {
	Hardware   Hardware
	DP         int
	APIServers int
	MaxNumSeqs int
	MaxTokens  int // max-num-batched-tokens
	BlockSize  int
	Blocks     int // KV blocks per rank
}

// NewCluster builds a cluster; obs may be nil.
func NewCluster(c ClusterConfig, obs Observer) *Cluster {
	cl := &Cluster{hw: c.Hardware, costs: c.Hardware.Costs, obs: obs,
		frontends: make([]time.Duration, c.APIServers), feBusy: make([]time.Duration, c.APIServers),
		gpus: newActivity(c.DP)}
	for i := range c.DP {
		cl.engines = append(cl.engines, newEngine(i, c.Hardware, c.MaxNumSeqs, c.MaxTokens, c.BlockSize, c.Blocks))
	}
	return cl
}

// Now is the simulated time the cluster has reached.
func (c *Cluster) Now() time.Duration { return c.now }

// Submit hands r to an API server at simulated time at (clamped to Now), after running every
// event before it.
func (c *Cluster) Submit(r *Request, at time.Duration) {
	c.AdvanceTo(at)
	at = max(at, c.now)
	c.nextID++
	r.id, r.arrival, r.scheduled, r.state = c.nextID, at, -1, stateFrontend
	r.api = c.nextAPI
	c.nextAPI = (c.nextAPI + 1) % len(c.frontends)
	cost := c.costs.Request + time.Duration(r.Prompt)*c.costs.PromptToken
	c.push(event{at: c.work(r.api, at, cost), kind: evIntake, req: r})
}

// Abort cancels r (its client went away); it produces no more output.
func (c *Cluster) Abort(r *Request) {
	switch r.state {
	case stateWaiting, stateRunning:
		c.engines[r.rank].abort(r)
	}
	r.state = stateAborted
}

// Next reports when the next event happens.
func (c *Cluster) Next() (time.Duration, bool) {
	if len(c.events) == 0 {
		return 0, false
	}
	return c.events[0].at, true
}

// AdvanceTo runs every event up to and including t.
func (c *Cluster) AdvanceTo(t time.Duration) {
	for len(c.events) > 0 && c.events[0].at <= t {
		ev := heap.Pop(&c.events).(event)
		c.now = ev.at
		c.run(ev)
	}
	c.now = max(c.now, t)
}

// work queues cost on API server api at time at and returns when it is done: each API server
// is one serial process (Python's event loop), so its work runs one piece at a time.
func (c *Cluster) work(api int, at, cost time.Duration) time.Duration {
	start := max(at, c.frontends[api])
	c.frontends[api] = start + cost
	c.feBusy[api] += cost
	return c.frontends[api]
}

func (c *Cluster) run(ev event) {
	switch ev.kind {
	case evIntake:
		if ev.req.state == stateAborted {
			return
		}
		e := c.route()
		e.enqueue(ev.req, c.now)
		c.kick(e)
	case evStepDone:
		c.stepDone(c.engines[ev.rank])
	case evDeliver:
		c.deliver(ev.out)
	}
}

// route picks the DP rank with the lowest waiting×4 + running, as vLLM's DP load balancer
// does; ties go to the lowest rank.
func (c *Cluster) route() *engine {
	best, bestScore := c.engines[0], -1
	for _, e := range c.engines {
		score := 4*len(e.waiting) + len(e.running)
		if bestScore < 0 || score < bestScore {
			best, bestScore = e, score
		}
	}
	return best
}

// kick starts a step on an idle engine that has work.
func (c *Cluster) kick(e *engine) {
	if e.busy {
		return
	}
	ok, preempted := e.schedule(c.now)
	c.notePreemptions(e, preempted)
	if !ok {
		return
	}
	e.busy = true
	parts := c.hw.StepParts(e.shape)
	dur := parts.Total()
	c.gpus.add(e.rank, c.now, parts)
	if c.obs != nil {
		c.obs.Step(e.rank, e.shape.Tokens, c.now, c.now+dur)
	}
	c.push(event{at: c.now + dur, kind: evStepDone, rank: e.rank})
}

func (c *Cluster) notePreemptions(e *engine, n int) {
	if n == 0 || c.obs == nil {
		return
	}
	for i := range n {
		// The preempted requests are at the front of the queue, newest first.
		c.obs.Preempt(e.rank, e.waiting[i])
	}
}

// stepDone applies a finished step, sends its tokens to the API servers and starts the next
// step.
func (c *Cluster) stepDone(e *engine) {
	e.busy = false
	// One batch per API server, sized for the whole step up front (they live in the delivery
	// events, so they cannot be reused).
	out := make([][]output, len(c.frontends))
	per := len(e.plan)/len(c.frontends) + 1
	e.finish(c.now, func(r *Request, done bool) {
		if out[r.api] == nil {
			out[r.api] = make([]output, 0, per)
		}
		out[r.api] = append(out[r.api], output{r: r, done: done})
	})
	for api, batch := range out {
		if len(batch) == 0 {
			continue
		}
		cost := time.Duration(len(batch)) * c.costs.OutputToken
		c.push(event{at: c.work(api, c.now, cost), kind: evDeliver, out: batch})
	}
	c.kick(e)
}

// deliver hands processed tokens to the clients.
func (c *Cluster) deliver(batch []output) {
	for _, o := range batch {
		r := o.r
		if r.state == stateAborted {
			continue
		}
		// Each output is the one token a step produced; the API server is FIFO, so they
		// reach the client in order.
		r.delivered++
		if r.delivered == 1 {
			r.firstOut = c.now
		}
		r.lastOut = c.now
		if c.obs != nil {
			c.obs.Deliver(r, 1, o.done, c.now)
		}
	}
}

// EngineState is a snapshot of one DP rank for gauges.
type EngineState struct {
	Running, Waiting int
	KVUsage          float64
	Blocks           int
}

// Engine returns the state of DP rank i.
func (c *Cluster) Engine(i int) EngineState {
	e := c.engines[i]
	return EngineState{Running: len(e.running), Waiting: len(e.waiting), KVUsage: e.usage(), Blocks: e.blocks}
}

// FrontendBusy is the CPU work API server api was given so far (some of it may still be
// queued).
func (c *Cluster) FrontendBusy(api int) time.Duration { return c.feBusy[api] }

// GPUActivity is what the GPUs of every rank did; it is safe to read from any goroutine.
func (c *Cluster) GPUActivity() *Activity { return c.gpus }

// Ranks is the number of DP ranks.
func (c *Cluster) Ranks() int { return len(c.engines) }

// Idle reports that nothing is queued, running or in flight.
func (c *Cluster) Idle() bool { return len(c.events) == 0 }

type output struct {
	r    *Request
	done bool
}

type eventKind uint8

const (
	evIntake eventKind = iota
	evStepDone
	evDeliver
)

type event struct {
	at   time.Duration
	seq  uint64
	kind eventKind
	rank int
	req  *Request
	out  []output
}

func (c *Cluster) push(ev event) {
	c.seq++
	ev.seq = c.seq
	heap.Push(&c.events, ev)
}

type eventHeap []event

func (h eventHeap) Len() int { return len(h) }
func (h eventHeap) Less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].seq < h[j].seq
}
func (h eventHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *eventHeap) Push(x any)   { *h = append(*h, x.(event)) }
func (h *eventHeap) Pop() any {
	old := *h
	ev := old[len(old)-1]
	old[len(old)-1] = event{}
	*h = old[:len(old)-1]
	return ev
}
