package sim

import (
	"net/http"
	"time"
)

// serveCadence answers a request on the fixed cadence: the first token TTFT after arrival and
// one token every ITL after it (both divided by Speedup), on an absolute schedule, one token
// per chunk. A late handler writes at once rather than skipping, so the chunk record shows how
// far the server fell behind its nominal cadence.
func (s *Server) serveCadence(w http.ResponseWriter, r *http.Request, st *stream) {
	ctx := r.Context()
	out := s.newResponder(w, st)
	defer out.close()
	c := s.eff.Cadence
	scale := func(d time.Duration) time.Duration { return time.Duration(float64(d) / s.eff.Speedup) }
	em := s.met.engines[0]
	if !out.begin(ctx) {
		em.success[reasonAbort].Inc()
		dropConnection()
	}
	for k := range st.req.Output {
		due := st.arrival.Add(scale(c.TTFT + time.Duration(k)*c.ITL))
		if !s.waitCtx(ctx, due.Sub(s.clock.Now())) {
			em.success[reasonAbort].Inc()
			dropConnection()
		}
		done := k == st.req.Output-1
		s.cadenceMetrics(em, st, k, done)
		if err := out.tokens(ctx, 1, done, due); err != nil {
			dropConnection()
		}
		if out.ended {
			return
		}
	}
	out.end(st.arrival.Add(scale(c.TTFT + time.Duration(st.req.Output-1)*c.ITL)))
}

// cadenceMetrics moves the counters for token k of a fixed-cadence response, from the
// nominal schedule, before the token is written.
func (s *Server) cadenceMetrics(em *engineMetrics, st *stream, k int, done bool) {
	c := s.eff.Cadence
	secs := func(d time.Duration) float64 { return d.Seconds() / s.eff.Speedup }
	if k == 0 {
		em.ttft.Observe(secs(c.TTFT))
		em.promptTokens.Add(float64(st.req.Prompt))
		em.prefixQueries.Add(float64(st.req.Prompt))
	} else {
		em.itl.Observe(secs(c.ITL))
	}
	em.generation.Inc()
	if !done {
		return
	}
	reason := reasonLength
	if st.req.Output < st.req.MaxTokens {
		reason = reasonStop
	}
	em.success[reason].Inc()
	total := c.TTFT + time.Duration(st.req.Output-1)*c.ITL
	em.e2e.Observe(secs(total))
	em.queue.Observe(0)
	em.prefill.Observe(secs(c.TTFT))
	em.decode.Observe(secs(total - c.TTFT))
	em.inference.Observe(secs(total))
	em.promptLen.Observe(float64(st.req.Prompt))
	em.genLen.Observe(float64(st.req.Output))
	if st.api.maxTokensSet {
		em.maxTok.Observe(float64(st.req.MaxTokens))
	}
	if st.req.Output > 1 {
		em.tpot.Observe(secs(c.ITL))
	}
}
