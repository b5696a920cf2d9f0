package sim

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"
)

// stream is one request between its HTTP handler and the driver. The driver owns req; the
// handler reads what the driver hands over under mu.
type stream struct {
	seq      uint64
	id       string // the response's id
	clientID string // X-Request-Id
	kind     apiKind
	api      apiRequest
	arrival  time.Time
	req      Request
	faults   faultPlan

	mu    sync.Mutex
	ready int       // tokens delivered, not yet written
	done  bool      // the last token is among them
	due   time.Time // real time of the latest delivery
	wake  chan struct{}

	lastAt time.Duration // previous delivery (simulated), driver only
}

func (st *stream) push(n int, done bool, due time.Time) {
	st.mu.Lock()
	st.ready += n
	st.done = st.done || done
	st.due = due
	st.mu.Unlock()
	select {
	case st.wake <- struct{}{}:
	default:
	}
}

// take returns the tokens ready to write.
func (st *stream) take() (n int, done bool, due time.Time) {
	st.mu.Lock()
	defer st.mu.Unlock()
	n, done, due = st.ready, st.done, st.due
	st.ready = 0
	return n, done, due
}

func (st *stream) finished() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.done
}

// drive runs the model in real time: it sleeps until the model's next event is due, or until
// a request arrives or leaves, then advances the model to now. Decisions depend only on
// simulated times: arrivals that reach the driver together are ordered by arrival time and
// client request id, not by which goroutine got there first.
func (s *Server) drive(ctx context.Context) {
	timer := s.clock.NewTimer(time.Hour)
	defer timer.Stop()
	var batch []*stream
	for {
		var wake <-chan time.Time
		if next, ok := s.core.Next(); ok {
			d := time.Duration(float64(next-s.simNow()) / s.eff.Speedup)
			if d <= 0 {
				s.advance()
				continue
			}
			timer.Reset(d)
			wake = timer.C()
		}
		select {
		case <-ctx.Done():
			return
		case st := <-s.submits:
			batch = s.drainSubmits(append(batch[:0], st))
			s.admit(batch)
		case st := <-s.aborts:
			s.abort(st)
		case <-wake:
		}
		timer.Stop()
		s.advance()
	}
}

// drainSubmits collects every submission already waiting.
func (s *Server) drainSubmits(batch []*stream) []*stream {
	for {
		select {
		case st := <-s.submits:
			batch = append(batch, st)
		default:
			return batch
		}
	}
}

// admit hands arrived requests to the model in a deterministic order.
func (s *Server) admit(batch []*stream) {
	slices.SortStableFunc(batch, func(a, b *stream) int {
		if c := a.arrival.Compare(b.arrival); c != 0 {
			return c
		}
		return cmp.Compare(a.clientID, b.clientID)
	})
	for _, st := range batch {
		s.core.Submit(&st.req, s.toSim(st.arrival))
	}
	clear(batch)
}

// abort removes a request whose client went away.
func (s *Server) abort(st *stream) {
	r := &st.req
	if r.state == stateDone || r.state == stateAborted {
		return
	}
	rank := 0
	if r.state != stateFrontend {
		rank = r.rank
	}
	s.core.Abort(r)
	s.met.engines[rank].success[reasonAbort].Inc()
}

// advance runs the model up to now and refreshes the gauges.
func (s *Server) advance() {
	s.core.AdvanceTo(s.simNow())
	for i, em := range s.met.engines {
		st := s.core.Engine(i)
		em.running.Set(float64(st.Running))
		em.waiting.Set(float64(st.Waiting))
		em.kvUsage.Set(st.KVUsage)
	}
}

// Deliver implements Observer: it updates vLLM's metrics and wakes the request's handler.
// Counters move before the client can see the tokens, so after a response ends they agree
// with it exactly.
func (s *Server) Deliver(r *Request, n int, done bool, at time.Duration) {
	st := r.Tag.(*stream)
	s.met.lag.Observe(max(0, s.realSeconds(s.simNow()-at)))
	em := s.met.engines[r.rank]
	if r.delivered == n {
		em.ttft.Observe(s.realSeconds(at - r.arrival))
		em.promptTokens.Add(float64(r.Prompt))
		em.prefixQueries.Add(float64(r.Prompt))
	} else {
		em.itl.Observe(s.realSeconds(at - st.lastAt))
	}
	st.lastAt = at
	em.generation.Add(float64(n))
	if done {
		s.finishMetrics(em, r, at)
	}
	st.push(n, done, s.toReal(at))
}

func (s *Server) finishMetrics(em *engineMetrics, r *Request, at time.Duration) {
	reason := reasonLength
	if r.Output < r.MaxTokens {
		reason = reasonStop
	}
	em.success[reason].Inc()
	em.e2e.Observe(s.realSeconds(at - r.arrival))
	em.queue.Observe(s.realSeconds(r.scheduled - r.queued))
	em.prefill.Observe(s.realSeconds(r.firstTok - r.scheduled))
	em.decode.Observe(s.realSeconds(r.lastTok - r.firstTok))
	em.inference.Observe(s.realSeconds(r.lastTok - r.scheduled))
	em.promptLen.Observe(float64(r.Prompt))
	em.genLen.Observe(float64(r.Output))
	if st := r.Tag.(*stream); st.api.maxTokensSet {
		em.maxTok.Observe(float64(r.MaxTokens))
	}
	if r.Output > 1 {
		em.tpot.Observe(s.realSeconds(r.lastTok-r.firstTok) / float64(r.Output-1))
	}
}

// Step implements Observer.
func (s *Server) Step(rank, tokens int, _, _ time.Duration) {
	s.met.engines[rank].iteration.Observe(float64(tokens))
}

// Preempt implements Observer.
func (s *Server) Preempt(rank int, _ *Request) { s.met.engines[rank].preemptions.Inc() }
