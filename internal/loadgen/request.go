package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/sse"
	"github.com/llmscale/llmscale/internal/tokens"
)

// prompt is a prompt ready to send: its request body is encoded once.
type prompt struct {
	body      []byte
	tokens    int
	maxTokens int
	index     int
}

// requestBody is the JSON of a streaming request. ignore_eos is vLLM's and SGLang's extension;
// temperature 0 matches vLLM's benchmark.
type requestBody struct {
	Model         string        `json:"model"`
	Prompt        any           `json:"prompt,omitempty"`
	Messages      []message     `json:"messages,omitempty"`
	MaxTokens     int           `json:"max_tokens"`
	Temperature   float64       `json:"temperature"`
	Stream        bool          `json:"stream"`
	StreamOptions streamOptions `json:"stream_options"`
	IgnoreEOS     bool          `json:"ignore_eos,omitempty"`
}

type message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type streamOptions struct {
	IncludeUsage         bool `json:"include_usage"`
	ContinuousUsageStats bool `json:"continuous_usage_stats,omitempty"`
}

func buildPrompts(c Config) ([]prompt, error) {
	out := make([]prompt, len(c.Prompts))
	for i, p := range c.Prompts {
		maxTokens := c.MaxTokens
		if p.MaxTokens > 0 {
			maxTokens = p.MaxTokens
		}
		b := requestBody{Model: c.Model, MaxTokens: maxTokens, Stream: true, IgnoreEOS: c.IgnoreEOS,
			StreamOptions: streamOptions{IncludeUsage: true, ContinuousUsageStats: c.ContinuousUsage}}
		switch {
		case c.API == loadspec.APIChat && len(p.Messages) > 0:
			for _, m := range p.Messages {
				b.Messages = append(b.Messages, message{Role: m.Role, Content: m.Content})
			}
		case c.API == loadspec.APIChat:
			b.Messages = []message{{Role: "user", Content: p.Text}}
		case len(p.TokenIDs) > 0:
			b.Prompt = p.TokenIDs
		default:
			b.Prompt = p.Text
		}
		body, err := json.Marshal(b)
		if err != nil {
			return nil, fmt.Errorf("encode prompt %d: %w", i, err)
		}
		out[i] = prompt{body: body, tokens: p.Tokens, maxTokens: maxTokens, index: i}
	}
	return out, nil
}

// timedReader notes when each read of the response body returned bytes. The SSE reader reads
// only when it holds no complete line, so an event's time is the time of the last read.
type timedReader struct {
	r     io.Reader
	start time.Time
	last  time.Time
	act   *activity
}

func (t *timedReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 {
		t.last = time.Now()
		t.act.last.Store(int64(t.last.Sub(t.start)))
	}
	return n, err
}

// exchange is one request in progress.
type exchange struct {
	r      *Runner
	cancel context.CancelCauseFunc // cancels the request's context
	rec    *results.Request
	p      *prompt
	first  time.Duration // offset of the first content chunk; -1 before it
	prev   time.Duration
	itl    []int64
	// vLLM's definition: every chunk with choices is timed (vllm bench serve).
	vFirst, vPrev time.Duration // -1 before the first
	vITL          []int64
	vExtra        bool    // a chunk with choices carried no output (chat's role delta, an empty finish)
	counts        []int32 // tokens.Count of each content chunk's text
	cum           []int64 // cumulative completion tokens on each content chunk (continuous usage); -1 if absent
	usageP        int64   // usage: prompt and completion tokens; -1 until seen
	usageC        int64
	finish        string
	done          bool // data: [DONE] seen
	text          []byte
	// wrote is set once the whole request was written to its connection: a timeout before
	// that is the client's own (it never reached the server).
	wrote atomic.Bool
}

// run sends the request and reads its stream into the record.
func (x *exchange) run(ctx context.Context, client *http.Client, target string) {
	r := x.r
	trace := &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { x.connected(false) },
		WroteRequest: func(w httptrace.WroteRequestInfo) {
			if w.Err == nil {
				x.wrote.Store(true)
			}
		}}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodPost, target, bytes.NewReader(x.p.body))
	if err != nil {
		x.fail(results.ErrorConnect, err.Error())
		return
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	if r.cfg.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+r.cfg.APIKey)
	}
	x.rec.SentNs = r.offset(time.Now())
	resp, err := client.Do(req)
	if err != nil {
		if lim := clientLimit(err); lim != "" {
			r.noteClientLimit(lim)
		}
		x.fail(x.classify(ctx, err))
		return
	}
	defer resp.Body.Close()
	x.rec.HTTPStatus = int32(resp.StatusCode)
	if resp.StatusCode != http.StatusOK {
		x.fail(results.ErrorHTTP, httpError(resp))
		return
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt == "application/json" || mt == "text/html" {
		x.fail(results.ErrorBadStream, fmt.Sprintf("response is %s, not an event stream: %s", mt,
			truncate(string(readSome(resp.Body)), 200)))
		return
	}
	x.stream(ctx, resp.Body)
}

func readSome(r io.Reader) []byte {
	b, _ := io.ReadAll(io.LimitReader(r, 512))
	return squeeze(b)
}

// squeeze joins the words of b with single spaces.
func squeeze(b []byte) []byte { return bytes.Join(bytes.Fields(b), []byte(" ")) }

// stream reads the events of a response body.
func (x *exchange) stream(ctx context.Context, body io.Reader) {
	r := x.r
	act := &activity{cancel: x.cancel}
	act.last.Store(r.offset(time.Now()))
	r.watch.add(act)
	defer r.watch.remove(act)
	tr := &timedReader{r: body, start: r.start, act: act}
	sr := r.readers.Get().(*sse.Reader)
	defer r.readers.Put(sr)
	sr.Reset(tr)
	over, err := x.events(sr, func() time.Duration { return tr.last.Sub(r.start) })
	switch {
	case !over:
		x.streamEnded(ctx, sr, err)
	case x.done:
		drain(body, x.cancel)
	}
}

// events hands the complete events sr holds, or can read, to the exchange, each at the time
// at gives once it is read. over: the stream is over for the exchange ([DONE], or a failure
// inside it; EndNs is set); otherwise err is why the reader stopped (io.EOF at the end, or
// sse.ErrMore when it needs bytes not yet arrived).
func (x *exchange) events(sr *sse.Reader, at func() time.Duration) (over bool, err error) {
	for {
		ev, err := sr.Next()
		if err != nil {
			return false, err
		}
		if t := at(); x.event(ev, t) {
			x.rec.EndNs = int64(t)
			return true, nil
		}
	}
}

// drain reads what follows [DONE] (the end of the chunked body) so that the connection is
// reused; a server that keeps the body open gets one second, then the connection is closed.
func drain(body io.Reader, cancel context.CancelCauseFunc) {
	t := time.AfterFunc(time.Second, func() { cancel(errDrain) })
	defer t.Stop()
	_, _ = io.CopyN(io.Discard, body, 64<<10)
}

func (x *exchange) streamEnded(ctx context.Context, sr *sse.Reader, err error) {
	switch {
	case !errors.Is(err, io.EOF):
		x.fail(classify(ctx, err))
	case len(x.itl) == 0 && x.first < 0 && x.rec.ResponseID == "" && sr.Unknown() > 0:
		x.fail(results.ErrorBadStream, fmt.Sprintf("not an event stream: %d lines that are not SSE fields", sr.Unknown()))
	case x.finish != "":
		x.fail(results.ErrorNoDone, "the stream ended without data: [DONE] after finish_reason "+x.finish)
	default:
		x.fail(results.ErrorStreamBroken, "the stream ended before finish_reason and data: [DONE]")
	}
}

// event handles one event; true means the stream is over ([DONE] or a failure).
func (x *exchange) event(ev sse.Event, at time.Duration) bool {
	switch ev.Type {
	case "error":
		x.fail(results.ErrorStreamError, "error event: "+truncate(string(ev.Data), 300))
		return true
	case "", "message":
	default:
		return false // an event type that carries no tokens
	}
	data := bytes.TrimSpace(ev.Data)
	if string(data) == "[DONE]" {
		x.done = true
		return true
	}
	var c chunk
	if err := parseChunk(data, &c); err != nil {
		x.fail(results.ErrorBadStream, fmt.Sprintf("%v: %s", err, truncate(string(data), 120)))
		return true
	}
	if c.hasError {
		x.fail(results.ErrorStreamError, truncate(string(c.errMsg.decode(nil)), 300))
		return true
	}
	x.vllmChunk(&c, at)
	if x.rec.ResponseID == "" && len(c.id.raw) > 0 {
		x.rec.ResponseID = string(c.id.decode(nil))
	}
	if c.output() {
		x.content(&c, at)
	}
	if len(c.finish.raw) > 0 {
		x.finish = string(c.finish.decode(nil))
	}
	if c.promptTokens >= 0 {
		x.usageP = c.promptTokens
	}
	if c.completionTokens >= 0 {
		x.usageC = c.completionTokens
	}
	return false
}

// vllmChunk times a chunk as vLLM's benchmark client does: a chunk with choices is the first
// token or ends a gap, whatever it carries; every chunk moves the clock of the last one.
func (x *exchange) vllmChunk(c *chunk, at time.Duration) {
	if c.hasChoice {
		if !c.output() {
			x.vExtra = true
		}
		if x.vFirst < 0 {
			x.vFirst = at
		} else {
			x.vITL = append(x.vITL, int64(at-x.vPrev))
		}
	}
	x.vPrev = at
}

// content records a chunk that carries output text, arrived at offset at.
func (x *exchange) content(c *chunk, at time.Duration) {
	if x.first < 0 {
		x.first = at
		// Sized for the answer at its first token, not before: a request waiting in the
		// server's queue holds none of it.
		n := min(x.p.maxTokens, 256)
		x.itl, x.counts, x.cum = make([]int64, 0, n), make([]int32, 0, n+1), make([]int64, 0, n+1)
	} else {
		x.itl = append(x.itl, int64(at-x.prev))
	}
	x.prev = at
	x.text = c.appendOutput(x.text[:0])
	n := tokens.Count(unsafe.String(unsafe.SliceData(x.text), len(x.text))) // x.text is not changed while counted
	x.counts = append(x.counts, int32(max(n, 1)))
	x.cum = append(x.cum, c.completionTokens)
}

// connected notes when the request got its connection (reused or not: the time tells). A
// request sent again on a new connection, after a kept-alive one turned out closed, keeps the
// last.
func (x *exchange) connected(bool) {
	x.rec.ConnectNs = max(x.r.offset(time.Now())-x.rec.SentNs, 1)
}

// fail marks the record failed; the first failure wins.
func (x *exchange) fail(kind, msg string) {
	if x.rec.ErrorKind != "" {
		return
	}
	x.rec.ErrorKind, x.rec.Error = kind, msg
	x.rec.EndNs = x.r.offset(time.Now())
}

// complete fills the record's derived columns once the request is over.
func (x *exchange) complete() {
	rec := x.rec
	if rec.ErrorKind == "" && !x.done {
		x.fail(results.ErrorStreamBroken, "the stream ended without data: [DONE]")
	}
	if rec.ErrorKind == "" && x.first < 0 {
		x.fail(results.ErrorNoOutput, "the stream carried no output text")
	}
	rec.FinishReason = x.finish
	rec.Chunks = int32(len(x.counts))
	rec.ITLNs = x.itl
	x.vllmColumns()
	rec.PromptTokens, rec.OutputTokens = int32(x.p.tokens), sum(x.counts)
	if x.usageP >= 0 {
		rec.PromptTokens = int32(x.usageP)
	}
	if x.usageC >= 0 {
		rec.OutputTokens, rec.TokensFromUsage = int32(x.usageC), true
	}
	rec.ChunkTokens, rec.ChunkTokensSource = x.chunkTokens()
	if x.first >= 0 {
		rec.FirstTokenNs = int64(x.first)
		rec.DoneNs = int64(x.prev)
		rec.TTFTNs = rec.FirstTokenNs - rec.SentNs
	}
	if rec.ErrorKind == "" {
		rec.E2ENs = rec.DoneNs - rec.SentNs
		if rec.OutputTokens > 1 {
			rec.TPOTNs = (rec.E2ENs - rec.TTFTNs) / int64(rec.OutputTokens-1)
		}
	}
}

// chunkTokens says how many tokens each content chunk carried, and how that is known.
func (x *exchange) chunkTokens() ([]int32, string) {
	if len(x.counts) == 0 {
		return nil, ""
	}
	if exact, ok := continuousUsage(x.cum); ok {
		return exact, results.ChunkTokensContinuousUsage
	}
	if x.usageC == int64(len(x.counts)) {
		ones := x.counts[:0:0]
		for range x.counts {
			ones = append(ones, 1)
		}
		return ones, results.ChunkTokensOnePerChunk
	}
	return x.counts, results.ChunkTokensCounted
}

// continuousUsage turns cumulative completion tokens per chunk into tokens per chunk.
func continuousUsage(cum []int64) ([]int32, bool) {
	out := make([]int32, len(cum))
	prev := int64(0)
	for i, c := range cum {
		if c <= prev { // absent (-1), or not growing
			return nil, false
		}
		out[i] = int32(c - prev)
		prev = c
	}
	return out, true
}

func sum(v []int32) int32 {
	var s int32
	for _, x := range v {
		s += x
	}
	return s
}

// activity is the last body read of a request in flight, watched for stalls.
type activity struct {
	last   atomic.Int64 // offset of the last read
	cancel context.CancelCauseFunc
}

// vllmColumns fills vLLM's TTFT and ITL where they differ from ours: only when a chunk with
// choices carried no output (otherwise vLLM's chunks are exactly our content chunks).
func (x *exchange) vllmColumns() {
	rec := x.rec
	if !x.vExtra || x.vFirst < 0 || len(x.vITL) == 0 {
		return
	}
	rec.VLLMITLNs = x.vITL
	rec.VLLMTTFTNs = int64(x.vFirst) - rec.SentNs
}
