package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/memnet"
)

// fakeServer streams OpenAI-style responses on a fixed cadence, with optional faults.
type fakeServer struct {
	api        loadspec.API  // completions | chat
	ttft, itl  time.Duration // delay of the first chunk and between chunks
	tokens     int           // output tokens (default: the request's max_tokens)
	perChunk   int           // tokens per chunk (default 1)
	noUsage    bool          // no usage chunk
	continuous bool          // cumulative usage on every chunk
	noDone     bool          // end without data: [DONE]
	roleDelta  bool          // chat: a role-only delta at once, before the first token
	holdOpen   bool          // keep the body open after [DONE]
	fault      string        // see serveFault
	status     int           // fault "status"
	mu         sync.Mutex
	bodies     []requestBody
	hits       atomic.Int64
}

const fakePromptTokens = 7

// clone is a server with s's settings and none of its state.
func (s *fakeServer) clone() *fakeServer {
	return &fakeServer{api: s.api, ttft: s.ttft, itl: s.itl, tokens: s.tokens, perChunk: s.perChunk,
		noUsage: s.noUsage, continuous: s.continuous, noDone: s.noDone, roleDelta: s.roleDelta,
		holdOpen: s.holdOpen, fault: s.fault, status: s.status}
}

func (s *fakeServer) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	start := time.Now()
	n := s.hits.Add(1)
	var body requestBody
	_ = json.NewDecoder(req.Body).Decode(&body)
	s.mu.Lock()
	s.bodies = append(s.bodies, body)
	s.mu.Unlock()
	if s.serveFault(w, req) {
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	fl := w.(http.Flusher)
	fl.Flush()
	id := fmt.Sprintf("cmpl-%d", n)
	if s.roleDelta {
		fmt.Fprintf(w, "data: {\"id\":%q,\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n", id)
		fl.Flush()
	}
	total := s.tokens
	if total == 0 {
		total = body.MaxTokens
	}
	per := max(s.perChunk, 1)
	sent := 0
	for i := 0; sent < total; i++ {
		sleepUntil(req.Context(), start.Add(s.ttft+time.Duration(i)*s.itl))
		if s.fault == "stall" && i == 3 {
			<-req.Context().Done()
			return
		}
		if s.fault == "cut" && i == 3 {
			panic(http.ErrAbortHandler) // the connection is closed mid-stream
		}
		k := min(per, total-sent)
		sent += k
		s.writeChunk(w, id, strings.Repeat(" abc", k), "null", sent)
		fl.Flush()
	}
	s.writeChunk(w, id, "", `"length"`, sent)
	if !s.noUsage {
		fmt.Fprintf(w, "data: {\"id\":%q,\"choices\":[],\"usage\":{\"prompt_tokens\":%d,\"completion_tokens\":%d,\"total_tokens\":%d}}\n\n",
			id, fakePromptTokens, sent, fakePromptTokens+sent)
	}
	if !s.noDone {
		io.WriteString(w, "data: [DONE]\n\n")
	}
	if s.holdOpen {
		fl.Flush()
		<-req.Context().Done()
	}
}

func (s *fakeServer) writeChunk(w io.Writer, id, text, finish string, cum int) {
	usage := ""
	if s.continuous {
		usage = fmt.Sprintf(`,"usage":{"prompt_tokens":%d,"completion_tokens":%d}`, fakePromptTokens, cum)
	}
	if s.api == loadspec.APIChat {
		fmt.Fprintf(w, "data: {\"id\":%q,\"choices\":[{\"index\":0,\"delta\":{\"content\":%q},\"finish_reason\":%s}]%s}\n\n",
			id, text, finish, usage)
		return
	}
	fmt.Fprintf(w, "data: {\"id\":%q,\"choices\":[{\"index\":0,\"text\":%q,\"finish_reason\":%s}]%s}\n\n", id, text, finish, usage)
}

// serveFault answers the faults that replace the stream; true means it answered.
func (s *fakeServer) serveFault(w http.ResponseWriter, req *http.Request) bool {
	fl := w.(http.Flusher)
	if s.fault != "" && s.fault != "stall" && s.fault != "cut" {
		sleepUntil(req.Context(), time.Now().Add(s.ttft))
	}
	switch s.fault {
	case "status":
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(s.status)
		fmt.Fprintf(w, `{"error":{"message":"status %d from the fake server","type":"x","code":%d}}`, s.status, s.status)
	case "garbage":
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "<html>\n<body>502 Bad Gateway</body>\n</html>\n")
	case "json":
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"cmpl-1","choices":[{"text":"not streamed"}]}`)
	case "notjson":
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: hello\n\n")
	case "error_event":
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: {\"choices\":[{\"text\":\" abc\"}]}\n\n")
		io.WriteString(w, `data: {"error":{"object":"error","message":"EngineCore died","type":"InternalServerError","code":500}}`+"\n\n")
		io.WriteString(w, "data: [DONE]\n\n")
	case "llamacpp_error":
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "error: {\"code\":500,\"message\":\"context size exceeded\"}\n\n")
	case "hang": // never answers
		<-req.Context().Done()
	case "keepalive": // keep-alive comments, never a token
		w.Header().Set("Content-Type", "text/event-stream")
		for req.Context().Err() == nil {
			io.WriteString(w, ": ping\n\n")
			fl.Flush()
			sleepUntil(req.Context(), time.Now().Add(s.itl))
		}
	default:
		return false
	}
	return true
}

func sleepUntil(ctx context.Context, t time.Time) {
	tm := time.NewTimer(time.Until(t))
	defer tm.Stop()
	select {
	case <-ctx.Done():
	case <-tm.C:
	}
}

// newPipeListener is an in-memory listener: tests under testing/synctest cannot use TCP.
func newPipeListener() *memnet.Listener { return memnet.Listen() }

// serveInMemory starts h on an in-memory listener; the returned config fields reach it.
func serveInMemory(h http.Handler) (dial func(context.Context, string, string) (net.Conn, error), stop func()) {
	l := newPipeListener()
	srv := &http.Server{Handler: h}
	done := make(chan struct{})
	go func() { _ = srv.Serve(l); close(done) }()
	return l.Dial, func() { srv.Close(); <-done }
}
