package sim

import (
	"cmp"
	"context"
	"math"
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
	due   time.Time // real time the oldest unwritten token became ready
	wake  chan struct{}

	lastAt time.Duration // previous delivery (simulated), driver only
}

func (st *stream) push(n int, done bool, due time.Time) {
	st.mu.Lock()
	if st.ready == 0 {
		st.due = due // the oldest ready token sets how late the next chunk is
	}
	st.ready += n
	st.done = st.done || done
	st.mu.Unlock()
	select {
	case st.wake <- struct{}{}:
	default:
	}
}

// take returns the tokens ready to write and when the oldest of them became ready.
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

// admitWindow is how long the driver holds the model at an arrival before admitting it, so
// that every request stamped with the same (or an earlier) time has reached it: arrivals are
// then handed to the model in order of their arrival time and client request id, never in the
// order goroutines happened to run. Deliveries during the window wait for it (at most this
// long); simulated times are unaffected.
const admitWindow = 500 * time.Microsecond

// drive runs the model in real time: it sleeps until the model's next event is due, a request
// arrives or leaves, or held arrivals are due for admission, then advances the model to now
// (but never past a held arrival).
func (s *Server) drive(ctx context.Context) {
	timer := s.clock.NewTimer(time.Hour)
	defer timer.Stop()
	var held []*stream
	var admitAt time.Time
	for {
		now := s.clock.Now()
		if len(held) > 0 && !now.Before(admitAt) {
			s.admit(held)
			held = held[:0]
		}
		limit := s.toSim(now)
		if next, ok := s.core.Next(); ok && s.realDelay(next, now) <= 0 {
			limit = max(limit, next) // due by the rounded-up clock, though toSim(now) rounds down
		}
		if len(held) > 0 {
			limit = min(limit, s.toSim(held[0].arrival))
		}
		s.advance(limit)
		wait, ok := s.nextWake(now, limit, held, admitAt)
		if ok && wait <= 0 {
			continue
		}
		var wake <-chan time.Time
		if ok {
			timer.Reset(wait)
			wake = timer.C()
		}
		select {
		case <-ctx.Done():
			return
		case st := <-s.submits:
			if len(held) == 0 {
				admitAt = s.clock.Now().Add(admitWindow)
			}
			held = s.hold(held, st)
		case st := <-s.aborts:
			s.abort(st)
		case <-wake:
		}
		timer.Stop()
	}
}

// nextWake is how long to sleep: until the next model event within reach, or until the held
// arrivals are admitted.
func (s *Server) nextWake(now time.Time, limit time.Duration, held []*stream, admitAt time.Time) (time.Duration, bool) {
	wait, ok := time.Duration(0), false
	if next, has := s.core.Next(); has && (len(held) == 0 || next <= limit) {
		wait, ok = s.realDelay(next, now), true
	}
	if len(held) > 0 {
		if d := admitAt.Sub(now); !ok || d < wait {
			wait, ok = d, true
		}
	}
	return wait, ok
}

// realDelay is how long until simulated time t, rounded up to whole nanoseconds so that
// waking then always reaches t.
func (s *Server) realDelay(t time.Duration, now time.Time) time.Duration {
	off := time.Duration(math.Ceil(float64(t) / s.eff.Speedup))
	return s.start.Add(off).Sub(now)
}

// hold adds an arrival (and any others already waiting) to the held set, earliest first.
func (s *Server) hold(held []*stream, st *stream) []*stream {
	held = append(held, st)
	for {
		select {
		case st := <-s.submits:
			held = append(held, st)
		default:
			slices.SortStableFunc(held, func(a, b *stream) int {
				if c := a.arrival.Compare(b.arrival); c != 0 {
					return c
				}
				return cmp.Compare(a.clientID, b.clientID)
			})
			return held
		}
	}
}

// admit hands held arrivals to the model at their own arrival times, in order.
func (s *Server) admit(held []*stream) {
	for _, st := range held {
		if st.req.state == stateAborted {
			continue // the client left before admission
		}
		s.core.Submit(&st.req, s.toSim(st.arrival))
	}
	clear(held)
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

// advance runs the model up to simulated time t and refreshes the gauges.
func (s *Server) advance(t time.Duration) {
	s.core.AdvanceTo(t)
	for i, em := range s.met.engines {
		st := s.core.Engine(i)
		em.running.Set(float64(st.Running))
		em.waiting.Set(float64(st.Waiting))
		em.kvUsage.Set(st.KVUsage)
	}
}

// observer is the server's Observer of its model; it keeps those methods off Server's API.
type observer struct{ s *Server }

func (o observer) Deliver(r *Request, n int, done bool, at time.Duration) {
	o.s.deliver(r, n, done, at)
}
func (o observer) Step(rank, tokens int, _, _ time.Duration) {
	o.s.met.engines[rank].iteration.Observe(float64(tokens))
}
func (o observer) Preempt(rank int, _ *Request) { o.s.met.engines[rank].preemptions.Inc() }

// deliver updates vLLM's metrics and wakes the request's handler. Counters move before the
// client can see the tokens, so after a response ends they agree with it exactly.
func (s *Server) deliver(r *Request, n int, done bool, at time.Duration) {
	st := r.Tag.(*stream)
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
	s.spans.add(r, at)
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
