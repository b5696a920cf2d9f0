package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/llmscale/llmscale/internal/pollhttp"
	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/sse"
)

// requestHead is what the epoll client sends before a request's body: the same request as
// net/http's, header fields in a fixed order, Content-Length's value left to append.
func requestHead(target, apiKey string) []byte {
	u, err := url.Parse(target)
	if err != nil {
		return nil // Validate has refused the target
	}
	head := fmt.Appendf(nil, "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: llmscale\r\nContent-Type: application/json\r\nAccept: text/event-stream\r\n",
		u.RequestURI(), u.Host)
	if apiKey != "" {
		head = fmt.Appendf(head, "Authorization: Bearer %s\r\n", apiKey)
	}
	return append(head, "Content-Length: "...)
}

// header is the request's line and header fields for a body of n bytes; the body (the
// prompt's, shared by every request of that prompt) is written after it.
func (t *target) header(n int) []byte {
	b := make([]byte, 0, len(t.head)+24)
	b = append(b, t.head...)
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, "\r\n\r\n"...)
}

// startPolled sends the request on the epoll client and returns: no goroutine waits for the
// response. It is parsed on the client's event loop as each read returns, every event timed
// by the read that completed it; what is left (the end of the stream, errors) is done by end
// once the response is over, then done is called, both on a goroutine of the client's.
func (x *exchange) startPolled(ctx context.Context, client *pollhttp.Client, tgt *target, done func()) {
	r := x.r
	sr := r.readers.Get().(*sse.Reader)
	h := &polledStream{x: x, sr: sr, act: &activity{cancel: x.cancel}}
	sr.Reset(&h.feed)
	x.rec.SentNs = r.offset(time.Now())
	client.Start(ctx, pollhttp.Request{Addr: tgt.dialAddr, Data: tgt.header(len(x.p.body)), Body: x.p.body, Connected: x.connected,
		Wrote: func() { x.wrote.Store(true) }}, h, func(err error) {
		h.end(ctx, err)
		r.readers.Put(sr)
		done()
	})
}

// end finishes the exchange once the client is done with the response (err: why it failed).
func (h *polledStream) end(ctx context.Context, err error) {
	x := h.x
	r := x.r
	if h.watched {
		r.watch.remove(h.act)
	}
	if h.drain != nil {
		h.drain.Stop()
	}
	switch {
	case h.over: // [DONE] or a failure in the stream: what came after does not matter
	case h.status != 0 && h.status != http.StatusOK: // as net/http's path: the status decides, whatever the body did
		x.fail(results.ErrorHTTP, httpErrorMessage(h.status, h.errBody))
	case h.notStream != "":
		x.fail(results.ErrorBadStream, fmt.Sprintf("response is %s, not an event stream: %s", h.notStream,
			truncate(string(squeeze(h.errBody[:min(len(h.errBody), 512)])), 200)))
	case err != nil:
		if lim := clientLimit(err); lim != "" {
			r.noteClientLimit(lim)
		}
		x.fail(x.classify(ctx, err))
	case h.sseErr != nil:
		x.fail(classify(ctx, h.sseErr))
	default: // the body ended before [DONE]: what the reader still holds, then why it ended
		h.feed.eof = true
		if over, err := x.events(h.sr, func() time.Duration { return h.last }); !over {
			x.streamEnded(ctx, h.sr, err)
		}
	}
}

// polledStream is one response on the epoll client. Header and Body run on its event loop.
type polledStream struct {
	x         *exchange
	sr        *sse.Reader
	feed      pushedBytes
	act       *activity
	status    int
	notStream string // the media type of a response that is not an event stream
	errBody   []byte // the start of an error response's body
	last      time.Duration
	over      bool  // the exchange needs nothing more: [DONE], or a failure inside the stream
	sseErr    error // the SSE reader gave up (a line too long)
	drain     *time.Timer
	watched   bool // the stall watchdog has the stream (from its header on, as for net/http)
}

func (h *polledStream) Header(status int, header http.Header) {
	h.act.last.Store(h.x.r.offset(time.Now()))
	h.x.r.watch.add(h.act)
	h.watched = true
	h.status = status
	h.x.rec.HTTPStatus = int32(status)
	if mt, _, _ := mime.ParseMediaType(header.Get("Content-Type")); mt == "application/json" || mt == "text/html" {
		h.notStream = mt
	}
}

func (h *polledStream) Body(p []byte, at time.Time) bool {
	x := h.x
	h.last = at.Sub(x.r.start)
	h.act.last.Store(int64(h.last))
	if h.status != http.StatusOK || h.notStream != "" {
		h.errBody = append(h.errBody, p[:min(len(p), maxErrorBody-len(h.errBody))]...)
		return len(h.errBody) < maxErrorBody
	}
	h.feed.p = p
	over, err := x.events(h.sr, func() time.Duration { return h.last })
	switch {
	case over:
		h.over = true
		if x.done { // the end of the body should follow at once; the connection is kept if it does
			h.drain = time.AfterFunc(time.Second, func() { x.cancel(errDrain) })
		}
		return false
	case !errors.Is(err, sse.ErrMore):
		h.sseErr = err
		return false
	}
	return true
}

// pushedBytes is the SSE reader's source on the event loop: the bytes of the read being
// handled, then sse.ErrMore until the next read, or io.EOF once the body has ended.
type pushedBytes struct {
	p   []byte
	eof bool
}

func (b *pushedBytes) Read(dst []byte) (int, error) {
	if len(b.p) == 0 {
		if b.eof {
			return 0, io.EOF
		}
		return 0, sse.ErrMore
	}
	n := copy(dst, b.p)
	b.p = b.p[n:]
	return n, nil
}
