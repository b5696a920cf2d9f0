package sim

import (
	"context"
	"encoding/hex"
	"errors"
	"hash/fnv"
	"math/rand/v2"
	"net/http"
	"time"
)

// generate serves /v1/completions and /v1/chat/completions.
func (s *Server) generate(kind apiKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		arrival := s.clock.Now()
		if e := s.unavailable(arrival); e != nil {
			s.writeError(w, e)
			return
		}
		seq := s.accepted.Add(1)
		if n := s.eff.Faults.CrashAfterRequests; n > 0 && seq > uint64(n) {
			s.log.Warn("simulated crash", "after_requests", n)
			s.crash()
			dropConnection()
		}
		req, err := parseRequest(r.Body, kind, s.eff.Model, s.eff.MaxModelLen)
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) {
				ae = badRequest("%v", err)
			}
			s.writeError(w, ae)
			return
		}
		st := s.newStream(seq, kind, req, r, arrival)
		if st.faults.fail {
			s.writeError(w, errFault(s.eff.Faults.ErrorStatus))
			return
		}
		if s.core == nil {
			s.serveCadence(w, r, st)
			return
		}
		s.serveModel(w, r, st)
	}
}

// unavailable is the error for requests the server cannot take yet (or any more).
func (s *Server) unavailable(now time.Time) *apiError {
	select {
	case <-s.started:
	default:
		return &apiError{Status: http.StatusServiceUnavailable, Type: "ServiceUnavailableError",
			Message: "the simulator is not running"}
	}
	select {
	case <-s.stopped:
		return &apiError{Status: http.StatusServiceUnavailable, Type: "ServiceUnavailableError",
			Message: "the simulator is shutting down"}
	default:
	}
	if now.Sub(s.start) < s.eff.Faults.SlowStart {
		return &apiError{Status: http.StatusServiceUnavailable, Type: "ServiceUnavailableError",
			Message: "the model is still loading (simulated slow start)"}
	}
	return nil
}

// newStream sets up a request: its id, its output length and its faults.
func (s *Server) newStream(seq uint64, kind apiKind, req apiRequest, r *http.Request, arrival time.Time) *stream {
	clientID := r.Header.Get("X-Request-Id")
	draw := requestDraw(seq, clientID)
	rng := rand.New(rand.NewPCG(uint64(s.eff.Seed), draw))
	base := clientID
	if base == "" {
		var b [16]byte
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		base = hex.EncodeToString(b[:])
	}
	prefix := "cmpl-"
	if kind == apiChat {
		prefix = "chatcmpl-"
	}
	output := req.maxTokens
	if !req.ignoreEOS {
		output = min(output, 1+int(rng.ExpFloat64()*float64(s.eff.MeanOutputTokens-1)))
	}
	st := &stream{seq: seq, id: prefix + base, clientID: clientID, kind: kind, api: req, arrival: arrival,
		wake: make(chan struct{}, 1), faults: planFaults(s.eff.Faults, s.eff.Seed, draw, output)}
	st.req = Request{Prompt: req.promptTokens, MaxTokens: req.maxTokens, Output: output, Tag: st}
	return st
}

// requestDraw keys a request's random choices (output length, faults, id): the client's
// X-Request-Id when it sends one, so they do not depend on which concurrent request the server
// happened to accept first; else the arrival number.
func requestDraw(seq uint64, clientID string) uint64 {
	if clientID == "" {
		return seq
	}
	h := fnv.New64a()
	h.Write([]byte(clientID))
	return h.Sum64()
}

// serveModel answers a request with the timing of the performance model.
func (s *Server) serveModel(w http.ResponseWriter, r *http.Request, st *stream) {
	ctx := r.Context()
	select {
	case s.submits <- st:
	case <-ctx.Done():
		return
	case <-s.stopped:
		s.writeError(w, s.unavailable(s.clock.Now()))
		return
	}
	out := s.newResponder(w, st)
	defer func() {
		out.close()
		if !st.finished() {
			select {
			case s.aborts <- st:
			case <-s.stopped:
			}
		}
	}()
	if !out.begin(ctx) {
		dropConnection()
	}
	for {
		select {
		case <-st.wake:
		case <-ctx.Done():
			// The client left, or the server is stopping: either way the stream is cut, never
			// ended as if it were complete.
			dropConnection()
		}
		n, done, due := st.take()
		if n == 0 && !done {
			continue
		}
		if err := out.tokens(ctx, n, done, due); err != nil {
			dropConnection()
		}
		if out.ended {
			return
		}
		if done {
			out.end(due)
			return
		}
	}
}

func (s *Server) models(w http.ResponseWriter, _ *http.Request) {
	created := s.clock.Now().Unix()
	type permission struct {
		ID                 string  `json:"id"`
		Object             string  `json:"object"`
		Created            int64   `json:"created"`
		AllowCreateEngine  bool    `json:"allow_create_engine"`
		AllowSampling      bool    `json:"allow_sampling"`
		AllowLogprobs      bool    `json:"allow_logprobs"`
		AllowSearchIndices bool    `json:"allow_search_indices"`
		AllowView          bool    `json:"allow_view"`
		AllowFineTuning    bool    `json:"allow_fine_tuning"`
		Organization       string  `json:"organization"`
		Group              *string `json:"group"`
		IsBlocking         bool    `json:"is_blocking"`
	}
	type card struct {
		ID          string       `json:"id"`
		Object      string       `json:"object"`
		Created     int64        `json:"created"`
		OwnedBy     string       `json:"owned_by"`
		Root        string       `json:"root"`
		Parent      *string      `json:"parent"`
		MaxModelLen int          `json:"max_model_len"`
		Permission  []permission `json:"permission"`
	}
	perm := permission{ID: "modelperm-llmscale-sim", Object: "model_permission", Created: created, AllowSampling: true,
		AllowLogprobs: true, AllowView: true, Organization: "*"}
	writeJSON(w, struct {
		Object string `json:"object"`
		Data   []card `json:"data"`
	}{"list", []card{{ID: s.eff.Model, Object: "model", Created: created, OwnedBy: "vllm", Root: s.eff.Model,
		MaxModelLen: s.eff.MaxModelLen, Permission: []permission{perm}}}})
}

// health is 200 once the server runs (and its slow start is over), like vLLM's /health.
func (s *Server) health(w http.ResponseWriter, _ *http.Request) {
	if e := s.unavailable(s.clock.Now()); e != nil {
		w.WriteHeader(e.Status)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (s *Server) version(w http.ResponseWriter, _ *http.Request) {
	v := s.eff.Version
	if v == "" {
		v = "dev"
	}
	writeJSON(w, map[string]string{"version": "llmscale-sim " + v})
}

// resetPrefixCache accepts vLLM's dev-mode endpoint; the simulator has no prefix cache.
func (s *Server) resetPrefixCache(w http.ResponseWriter, _ *http.Request) {
	w.WriteHeader(http.StatusOK)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(marshal(v))
}

// waitCtx sleeps d on the server's clock unless ctx ends first.
func (s *Server) waitCtx(ctx context.Context, d time.Duration) bool {
	return sleep(s.clock, d, ctx.Done())
}
