package sim

import (
	"context"
	"net/http"
	"time"
)

// responder writes one response, applies the stream's faults and records every chunk.
type responder struct {
	s       *Server
	w       http.ResponseWriter
	rc      *http.ResponseController
	st      *stream
	enc     *encoder
	created int64
	chunk   int32
	written int // output tokens written
	stalled bool
	ended   bool // a fault ended the response early (error event, reset): write nothing more
	rows    []ChunkRecord
}

func (s *Server) newResponder(w http.ResponseWriter, st *stream) *responder {
	created := st.arrival.Unix()
	return &responder{s: s, w: w, rc: http.NewResponseController(w), st: st, created: created,
		enc: newEncoder(st.kind, st.id, created, s.eff.Model, st.req.Prompt, st.api.continuousUse)}
}

// begin sends the headers of a stream at once, as vLLM's StreamingResponse does (after the
// first-byte stall fault, if the response has it); false when ctx ended during the stall.
func (o *responder) begin(ctx context.Context) bool {
	if o.st.faults.stallFirst && !o.s.waitCtx(ctx, o.s.eff.Faults.StallFor) {
		return false
	}
	if !o.st.api.stream {
		return true
	}
	h := o.w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	if o.st.clientID != "" {
		h.Set("X-Request-Id", o.st.clientID)
	}
	o.w.WriteHeader(http.StatusOK)
	o.rc.Flush()
	return true
}

// tokens writes the next n tokens (one chunk), then applies the stall and drop faults.
func (o *responder) tokens(ctx context.Context, n int, done bool, due time.Time) error {
	if o.st.api.stream {
		if err := o.writeContent(n, done, due); err != nil {
			return err
		}
	}
	before := o.written
	o.written += n
	reached := func(at int) bool { return at >= 0 && before < at && o.written >= at && !done }
	if reached(o.st.faults.dropAt) {
		dropConnection()
	}
	if reached(o.st.faults.errorAt) && o.st.api.stream {
		o.ended = true
		return o.streamError(due)
	}
	if reached(o.st.faults.resetAt) {
		o.ended = true
		return resetConnection(o.w)
	}
	if at := o.st.faults.stallAt; at >= 0 && !o.stalled && o.written >= at && !done {
		o.stalled = true
		if !o.s.waitCtx(ctx, o.s.eff.Faults.StallFor) {
			return ctx.Err()
		}
	}
	return nil
}

func (o *responder) writeContent(n int, done bool, due time.Time) error {
	if o.st.kind == apiChat && o.chunk == 0 {
		if _, err := o.w.Write(o.enc.role()); err != nil {
			return err
		}
		o.pending(ChunkRole, 0, due)
	}
	finish := ""
	if done {
		finish = o.finishReason()
	}
	b := o.enc.content(n, finish)
	if o.st.faults.malformed() {
		b = o.enc.malformed(n)
	}
	if _, err := o.w.Write(b); err != nil {
		return err
	}
	o.pending(ChunkContent, n, due)
	return o.flush(due)
}

// streamError ends a stream as vLLM does when the engine fails mid-stream: one data event
// holding the error object, then [DONE].
func (o *responder) streamError(due time.Time) error {
	body := errStreamFault().body(o.s.eff.ErrorFormat == ErrorFormatLegacy)
	event := append(append([]byte("data: "), body...), "\n\n"...)
	if _, err := o.w.Write(event); err != nil {
		return err
	}
	if _, err := o.w.Write(doneEvent); err != nil {
		return err
	}
	o.pending(ChunkDone, 0, due)
	return o.flush(due)
}

// end finishes the response: usage chunk and [DONE] for a stream, the body otherwise.
func (o *responder) end(due time.Time) {
	if !o.st.api.stream {
		o.writeBody(due)
		return
	}
	if o.st.api.includeUsage {
		if _, err := o.w.Write(o.enc.usage()); err != nil {
			return
		}
		o.pending(ChunkUsage, 0, due)
	}
	if _, err := o.w.Write(doneEvent); err != nil {
		return
	}
	o.pending(ChunkDone, 0, due)
	o.flush(due)
}

func (o *responder) writeBody(due time.Time) {
	body, err := fullResponse(o.st.kind, o.st.id, o.created, o.s.eff.Model, o.st.req.Prompt, o.written, o.finishReason())
	if err != nil {
		o.s.writeError(o.w, &apiError{Status: http.StatusInternalServerError, Type: "InternalServerError", Message: err.Error()})
		return
	}
	if o.st.faults.malformed() {
		body = body[:len(body)/2]
	}
	o.w.Header().Set("Content-Type", "application/json")
	if o.st.clientID != "" {
		o.w.Header().Set("X-Request-Id", o.st.clientID)
	}
	o.w.Write(body)
	o.pending(ChunkBody, o.written, due)
	o.flush(due)
}

func (o *responder) finishReason() string {
	if o.st.req.Output < o.st.req.MaxTokens {
		return reasonStop
	}
	return reasonLength
}

// pending adds a chunk record whose written time is filled in by the next flush.
func (o *responder) pending(kind string, tokens int, due time.Time) {
	if o.s.rec == nil {
		o.chunk++
		return
	}
	o.rows = append(o.rows, ChunkRecord{Seq: o.st.seq, RequestID: o.st.id, XRequestID: o.st.clientID, Chunk: o.chunk,
		Kind: kind, Tokens: int32(tokens), ArrivalUnixNs: o.st.arrival.UnixNano(), DueUnixNs: due.UnixNano(), WrittenUnixNs: -1})
	o.chunk++
}

// flush sends what was written, notes how late it is, and stamps the chunks it carried.
func (o *responder) flush(due time.Time) error {
	err := o.rc.Flush()
	now := o.s.clock.Now()
	o.s.met.lag.Observe(max(0, now.Sub(due).Seconds()))
	if o.s.rec == nil {
		return err
	}
	stamp := now.UnixNano()
	for i := len(o.rows) - 1; i >= 0 && o.rows[i].WrittenUnixNs < 0; i-- {
		o.rows[i].WrittenUnixNs = stamp
	}
	return err
}

// close hands the records to the recorder.
func (o *responder) close() {
	if o.s.rec == nil {
		return
	}
	rows := o.rows[:0]
	for _, r := range o.rows {
		if r.WrittenUnixNs >= 0 {
			rows = append(rows, r)
		}
	}
	o.s.rec.add(rows)
}
