//go:build linux

package pollhttp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// recorder is a Handler that keeps the response.
type recorder struct {
	status int
	header http.Header
	body   strings.Builder
	reads  []time.Time
	stopAt int // stop after this many body bytes; 0: never
}

func (r *recorder) Header(status int, h http.Header) { r.status, r.header = status, h }

func (r *recorder) Body(p []byte, at time.Time) bool {
	r.body.Write(p)
	r.reads = append(r.reads, at)
	return r.stopAt == 0 || r.body.Len() < r.stopAt
}

// firstBody is a recorder that closes got when the first body bytes are in.
type firstBody struct {
	*recorder
	got  chan struct{}
	once sync.Once
}

func (f *firstBody) Body(p []byte, at time.Time) bool {
	more := f.recorder.Body(p, at)
	f.once.Do(func() { close(f.got) })
	return more
}

// counted is a client whose open connections are counted.
type counted struct {
	*Client
	opened, open atomic.Int64
}

// newCounted starts a client of opts (its OnOpen and OnClose count), closed when t ends.
func newCounted(t *testing.T, opts Options) *counted {
	t.Helper()
	c := &counted{}
	opts.OnOpen = func() { c.opened.Add(1); c.open.Add(1) }
	opts.OnClose = func() { c.open.Add(-1) }
	cl, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	c.Client = cl
	t.Cleanup(func() { cl.Close() })
	return c
}

func newClient(t *testing.T, receive string, dial func(context.Context, string, string) (net.Conn, error)) *counted {
	t.Helper()
	c := newCounted(t, Options{Dial: dial, Receive: receive})
	if got := c.Receive(); got != receive {
		t.Fatalf("receive path %s, want %s", got, receive)
	}
	return c
}

// bothPaths runs test on each receive path, the epoll loop and the io_uring loop. Where
// this kernel refuses io_uring (too old, or a seccomp profile) the second is skipped: io_uring
// is a kernel's to give, not a package CI can install, and the path is opt-in.
func bothPaths(t *testing.T, test func(t *testing.T, receive string)) {
	t.Parallel()
	for _, receive := range []string{ReceiveEpoll, ReceiveIOURing} {
		t.Run(receive, func(t *testing.T) {
			if receive == ReceiveIOURing {
				skipWithoutURing(t)
			}
			test(t, receive)
		})
	}
}

func skipWithoutURing(t *testing.T) {
	t.Helper()
	c, err := New(Options{Receive: ReceiveIOURing})
	if err == nil {
		c.Close()
		return
	}
	t.Skipf("io_uring is not available here: %v", err)
}

func post(addr, path, body string) Request {
	return Request{Addr: addr, Data: fmt.Appendf(nil, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		path, addr, len(body), body)}
}

// sseServer streams n events, 5 ms apart, and counts its connections.
func sseServer(t *testing.T, n int) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range n {
			fmt.Fprintf(w, "data: %s %d\n\n", body, i)
			w.(http.Flusher).Flush()
			time.Sleep(5 * time.Millisecond)
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

func want(body string, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "data: %s %d\n\n", body, i)
	}
	return b.String()
}

func TestStreamsAndReusesConnections(t *testing.T) { bothPaths(t, testStreamsAndReusesConnections) }

func testStreamsAndReusesConnections(t *testing.T, receive string) {
	t.Parallel()
	srv, conns := sseServer(t, 5)
	c := newClient(t, receive, nil)
	addr := srv.Listener.Addr().String()
	for i := range 3 {
		rec := &recorder{}
		if err := c.Do(t.Context(), post(addr, "/v1/completions", fmt.Sprint(i)), rec); err != nil {
			t.Fatal(err)
		}
		if rec.status != 200 || rec.header.Get("Content-Type") != "text/event-stream" || rec.body.String() != want(fmt.Sprint(i), 5) {
			t.Fatalf("request %d: %d %v %q", i, rec.status, rec.header, rec.body.String())
		}
		// The server writes the events 20 ms apart in all; a client that read them at the end
		// would span ~0. Half of it leaves room for a late first wake-up on a busy host.
		if len(rec.reads) < 5 || rec.reads[len(rec.reads)-1].Sub(rec.reads[0]) < 10*time.Millisecond {
			t.Errorf("request %d: %d reads over %v; want the events timed as they came, 5 ms apart",
				i, len(rec.reads), rec.reads[len(rec.reads)-1].Sub(rec.reads[0]))
		}
	}
	if conns.Load() != 1 || c.opened.Load() != 1 || c.open.Load() != 1 {
		t.Errorf("server saw %d connections, client opened %d (%d open); want one, kept alive", conns.Load(), c.opened.Load(), c.open.Load())
	}
}

func TestManyConcurrentStreams(t *testing.T) { bothPaths(t, testManyConcurrentStreams) }

func testManyConcurrentStreams(t *testing.T, receive string) {
	t.Parallel()
	srv, _ := sseServer(t, 20)
	c := newClient(t, receive, nil)
	addr := srv.Listener.Addr().String()
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			rec := &recorder{}
			if err := c.Do(t.Context(), post(addr, "/", fmt.Sprint(i)), rec); err != nil || rec.body.String() != want(fmt.Sprint(i), 20) {
				t.Errorf("stream %d: %v %q", i, err, rec.body.String())
			}
		})
	}
	wg.Wait()
}

func TestStoppedHandlerStillReusesConnection(t *testing.T) {
	bothPaths(t, testStoppedHandlerStillReusesConnection)
}

func testStoppedHandlerStillReusesConnection(t *testing.T, receive string) {
	t.Parallel()
	srv, conns := sseServer(t, 4)
	c := newClient(t, receive, nil)
	addr := srv.Listener.Addr().String()
	for range 2 {
		rec := &recorder{stopAt: 1}
		if err := c.Do(t.Context(), post(addr, "/", "x"), rec); err != nil {
			t.Fatal(err)
		}
		if got := rec.body.String(); got != "data: x 0\n\n" {
			t.Errorf("body %q; want only the first read", got)
		}
	}
	if conns.Load() != 1 {
		t.Errorf("%d connections, want the drained one reused", conns.Load())
	}
}

// rawServer answers each connection with fn, on a real loopback listener.
func rawServer(t *testing.T, fn func(net.Conn, *bufio.Reader)) (string, *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns atomic.Int64
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			wg.Go(func() {
				defer conn.Close()
				fn(conn, bufio.NewReader(conn))
			})
		}
	})
	return ln.Addr().String(), &conns
}

func readRequest(t *testing.T, br *bufio.Reader) bool {
	req, err := http.ReadRequest(br)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, req.Body)
	return true
}

// TestServerClosedIdleConnection: a server that closes a kept-alive connection after one
// response (without saying so) costs a new connection, not a failed request.
func TestServerClosedIdleConnection(t *testing.T) { bothPaths(t, testServerClosedIdleConnection) }

func testServerClosedIdleConnection(t *testing.T, receive string) {
	t.Parallel()
	addr, conns := rawServer(t, func(conn net.Conn, br *bufio.Reader) {
		if readRequest(t, br) {
			io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}
	})
	c := newClient(t, receive, nil)
	for i := range 3 {
		rec := &recorder{}
		if err := c.Do(t.Context(), post(addr, "/", "x"), rec); err != nil || rec.body.String() != "ok" {
			t.Fatalf("request %d: %v %q", i, err, rec.body.String())
		}
		time.Sleep(20 * time.Millisecond) // the server's close reaches the client's idle socket
	}
	if conns.Load() != 3 || c.open.Load() > 1 {
		t.Errorf("%d connections, %d still open; want one per request, the closed ones closed", conns.Load(), c.open.Load())
	}
}

func TestFailures(t *testing.T) { bothPaths(t, testFailures) }

func testFailures(t *testing.T, receive string) {
	t.Parallel()
	tests := []struct {
		name  string
		serve func(net.Conn, *bufio.Reader)
		err   string
	}{
		{"not HTTP", func(conn net.Conn, br *bufio.Reader) {
			readRequest(t, br)
			io.WriteString(conn, "<html>hello</html>\r\n\r\n")
		}, "malformed HTTP response"},
		{"cut mid-stream", func(conn net.Conn, br *bufio.Reader) {
			readRequest(t, br)
			io.WriteString(conn, sseHead+"Transfer-Encoding: chunked\r\n\r\n9\r\ndata: a\n\n\r\n9\r\ndata")
		}, "unexpected EOF"},
		{"reset", func(conn net.Conn, br *bufio.Reader) {
			readRequest(t, br)
			io.WriteString(conn, sseHead+"Transfer-Encoding: chunked\r\n\r\n")
			conn.(*net.TCPConn).SetLinger(0)
		}, "connection reset"},
		{"closed without answering", func(conn net.Conn, br *bufio.Reader) { readRequest(t, br) }, "closed the connection before responding"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			addr, _ := rawServer(t, tt.serve)
			c := newClient(t, receive, nil)
			err := c.Do(t.Context(), post(addr, "/", "x"), &recorder{})
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("error %v, want %q", err, tt.err)
			}
			if c.open.Load() != 0 {
				t.Errorf("%d connections left open after a failure", c.open.Load())
			}
		})
	}
}

func TestErrorStatusBody(t *testing.T) { bothPaths(t, testErrorStatusBody) }

func testErrorStatusBody(t *testing.T, receive string) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":{"message":"no such model"}}`, http.StatusNotFound)
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, receive, nil)
	rec := &recorder{}
	if err := c.Do(t.Context(), post(srv.Listener.Addr().String(), "/", "x"), rec); err != nil {
		t.Fatal(err)
	}
	if rec.status != 404 || !strings.Contains(rec.body.String(), "no such model") {
		t.Fatalf("%d %q", rec.status, rec.body.String())
	}
}

// stallingServer answers every request with one event and then nothing until the test ends.
func stallingServer(t *testing.T) (addr string) {
	release := make(chan struct{})
	addr, _ = rawServer(t, func(conn net.Conn, br *bufio.Reader) {
		readRequest(t, br)
		io.WriteString(conn, sseHead+"Transfer-Encoding: chunked\r\n\r\n9\r\ndata: a\n\n\r\n")
		<-release
	})
	t.Cleanup(func() { close(release) }) // before rawServer's cleanup, which waits for its handlers
	return addr
}

func TestCancelStalledStream(t *testing.T) { bothPaths(t, testCancelStalledStream) }

func testCancelStalledStream(t *testing.T, receive string) {
	t.Parallel()
	addr := stallingServer(t)
	c := newClient(t, receive, nil)
	ctx, cancel := context.WithCancelCause(t.Context())
	rec := &recorder{}
	h := &firstBody{recorder: rec, got: make(chan struct{})}
	go func() {
		select { // cancel once the first event is in, not after a guessed time
		case <-h.got:
		case <-time.After(10 * time.Second):
		}
		cancel(errors.New("stalled"))
	}()
	err := c.Do(ctx, post(addr, "/", "x"), h)
	if !errors.Is(err, context.Canceled) || rec.body.String() != "data: a\n\n" || c.open.Load() != 0 {
		t.Fatalf("error %v body %q open %d; want cancelled after the first event, connection closed", err, rec.body.String(), c.open.Load())
	}
}

// reading says whether a request is registered with the loop.
func (c *Client) reading() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.calls) > 0
}

func TestCloseFailsRunningRequests(t *testing.T) { bothPaths(t, testCloseFailsRunningRequests) }

func testCloseFailsRunningRequests(t *testing.T, receive string) {
	t.Parallel()
	release := make(chan struct{})
	addr, _ := rawServer(t, func(conn net.Conn, br *bufio.Reader) {
		readRequest(t, br)
		<-release
	})
	defer close(release)
	c := newClient(t, receive, nil)
	done := make(chan error, 1)
	go func() { done <- c.Do(context.Background(), post(addr, "/", "x"), &recorder{}) }()
	for !c.reading() {
		time.Sleep(time.Millisecond)
	}
	c.Close()
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("error %v, want ErrClosed", err)
	}
	if err := c.Do(context.Background(), post(addr, "/", "x"), &recorder{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v, want ErrClosed", err)
	}
	if c.open.Load() != 0 {
		t.Errorf("%d connections open after Close", c.open.Load())
	}
}

func TestDialErrors(t *testing.T) { bothPaths(t, testDialErrors) }

func testDialErrors(t *testing.T, receive string) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	c := newClient(t, receive, nil)
	var op *net.OpError
	if err := c.Do(t.Context(), post(addr, "/", "x"), &recorder{}); !errors.As(err, &op) || op.Op != "dial" {
		t.Fatalf("error %v, want a dial error", err)
	}
	pipe := newClient(t, receive, func(context.Context, string, string) (net.Conn, error) { a, _ := net.Pipe(); return a, nil })
	if err := pipe.Do(t.Context(), post(addr, "/", "x"), &recorder{}); err == nil || !strings.Contains(err.Error(), "no socket") {
		t.Fatalf("error %v, want a conn with no socket refused", err)
	}
}

// TestStartDoesNotWait: Start returns once the request is written, before any response, and
// done is called once the response has ended; a context cancelled later still aborts it.
func TestStartDoesNotWait(t *testing.T) { bothPaths(t, testStartDoesNotWait) }

func testStartDoesNotWait(t *testing.T, receive string) {
	t.Parallel()
	release := make(chan struct{})
	addr, _ := rawServer(t, func(conn net.Conn, br *bufio.Reader) {
		for readRequest(t, br) {
			<-release
			io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}
	})
	c := newClient(t, receive, nil)
	done := make(chan error, 2)
	rec := &recorder{}
	c.Start(t.Context(), post(addr, "/", "x"), rec, func(err error) { done <- err })
	select {
	case err := <-done:
		t.Fatalf("done (%v) before the server answered", err)
	case <-time.After(50 * time.Millisecond):
	}
	release <- struct{}{}
	if err := <-done; err != nil || rec.body.String() != "ok" {
		t.Fatalf("error %v, body %q", err, rec.body.String())
	}
	ctx, cancel := context.WithCancel(t.Context())
	c.Start(ctx, post(addr, "/", "x"), &recorder{}, func(err error) { done <- err })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v after cancelling, want context.Canceled", err)
	}
	close(release)
	select {
	case err := <-done:
		t.Fatalf("done called a second time (%v)", err)
	case <-time.After(50 * time.Millisecond):
	}
}

// TestBodyWrittenAfterData: a Body larger than the socket's buffer is written whole after
// Data, through partial writes.
func TestBodyWrittenAfterData(t *testing.T) { bothPaths(t, testBodyWrittenAfterData) }

func testBodyWrittenAfterData(t *testing.T, receive string) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%d %s", len(b), b[len(b)-3:])
	}))
	t.Cleanup(srv.Close)
	body := []byte(strings.Repeat("x", 8<<20) + "end")
	addr := srv.Listener.Addr().String()
	req := Request{Addr: addr, Data: fmt.Appendf(nil, "POST / HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n", addr, len(body)), Body: body}
	rec := &recorder{}
	if err := newClient(t, receive, nil).Do(t.Context(), req, rec); err != nil || rec.body.String() != fmt.Sprint(len(body), " end") {
		t.Fatalf("error %v, response %q", err, rec.body.String())
	}
}
