package loadgen

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/pollhttp"
)

// transport sends requests and reads their streams: Go's net/http client or the event-loop
// client, chosen once per run, so that sending a request never asks which one it is.
type transport interface {
	// start sends x's request to tgt and reads the response into x, then calls done; every
	// failure ends up in x's record. It may return before the response is over (then done
	// runs on another goroutine) or only once done has run.
	start(ctx context.Context, x *exchange, tgt *target, done func())
	// close closes the transport's connections.
	close()
	// name is the client as the summary records it: net/http, epoll or io_uring.
	name() string
}

// newTransport builds the run's transport. Its connections come from dial (the connections
// opened ahead first) and are counted in counter.
func newTransport(c Config, counter *connCounter, dial dialFunc) (transport, error) {
	// auto became epoll in withDefaults: io_uring measured more CPU per token (docs/performance.md).
	receive := map[string]string{ClientEpoll: pollhttp.ReceiveEpoll, ClientIOURing: pollhttp.ReceiveIOURing}
	rc, loop := receive[c.Client]
	if !loop {
		return netHTTPTransport{newClient(c, counter, dial)}, nil
	}
	poll, err := pollhttp.New(pollhttp.Options{Dial: dial, MaxIdlePerAddr: poolSize(c), Receive: rc,
		OnOpen: counter.opened, OnClose: func() { counter.open.Add(-1) }})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return epollTransport{poll}, nil
}

// netHTTPTransport is Go's client: TLS, and a goroutine per response (the caller's: start
// returns once the response is over).
type netHTTPTransport struct{ client *http.Client }

func (t netHTTPTransport) start(ctx context.Context, x *exchange, tgt *target, done func()) {
	x.run(ctx, t.client, tgt.url)
	done()
}
func (t netHTTPTransport) close()       { t.client.CloseIdleConnections() }
func (t netHTTPTransport) name() string { return ClientNetHTTP }

// epollTransport is the event-loop client (internal/pollhttp): one loop reads every
// response, through epoll or io_uring, and no goroutine waits for one (start returns once
// the request is written).
type epollTransport struct{ client *pollhttp.Client }

func (t epollTransport) start(ctx context.Context, x *exchange, tgt *target, done func()) {
	x.startPolled(ctx, t.client, tgt, done)
}
func (t epollTransport) close()       { _ = t.client.Close() }
func (t epollTransport) name() string { return t.client.Receive() } // the same words as the Client constants

type dialFunc = func(ctx context.Context, network, addr string) (net.Conn, error)

// connCounter counts the connections the client holds open, and the most at once.
type connCounter struct {
	open, peak, dialled atomic.Int64
}

func (c *connCounter) opened() {
	c.dialled.Add(1)
	raisePeak(&c.peak, c.open.Add(1))
}

// raisePeak makes peak at least n.
func raisePeak(peak *atomic.Int64, n int64) {
	for {
		p := peak.Load()
		if n <= p || peak.CompareAndSwap(p, n) {
			return
		}
	}
}

// countedConn decrements the counter once when closed.
type countedConn struct {
	net.Conn
	c    *connCounter
	once sync.Once
}

func (cc *countedConn) Close() error {
	cc.once.Do(func() { cc.c.open.Add(-1) })
	return cc.Conn.Close()
}

// poolSize is how many idle connections per host the client keeps: at least what the load
// holds in flight, so no connection the load needs again is closed and dialled anew.
func poolSize(c Config) int {
	users, concurrency, _, _ := c.level()
	n := max(users, concurrency, c.MaxInflight)
	if c.Mode == loadspec.ModeRate && c.MaxInflight == 0 {
		n = 1 << 16 // an open loop holds what the server makes it hold
	}
	return max(n, 64)
}

// newClient builds the HTTP client of a run: HTTP/1.1 only (one stream per connection, as
// every benchmark of these servers uses), no compression (a gzip stream would be buffered),
// no proxy, a pool sized for the load, connections counted.
func newClient(c Config, counter *connCounter, dial dialFunc) *http.Client {
	tlsConfig := c.TLSConfig
	if tlsConfig == nil {
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	tr := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := dial(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			counter.opened()
			return &countedConn{Conn: conn, c: counter}, nil
		},
		TLSClientConfig:     tlsConfig,
		TLSHandshakeTimeout: 30 * time.Second,
		ForceAttemptHTTP2:   false,
		TLSNextProto:        map[string]func(string, *tls.Conn) http.RoundTripper{}, // no HTTP/2
		DisableCompression:  true,
		MaxIdleConns:        0, // no limit across hosts
		MaxIdleConnsPerHost: poolSize(c),
		MaxConnsPerHost:     0,
		IdleConnTimeout:     90 * time.Second,
		ReadBufferSize:      8 << 10,
		WriteBufferSize:     4 << 10,
	}
	return &http.Client{Transport: tr}
}
