package loadgen

import (
	"context"
	"errors"
	"net"
	"net/url"
	"sync"
	"time"

	"github.com/llmscale/llmscale/internal/loadspec"
)

// DefaultConnectRate is how many connections per second a closed-loop run opens before its
// start when the configuration names no rate: 1,024 users take half a second, and a server's
// accept queue (uvicorn's backlog is 2,048, Linux's default somaxconn 4,096) never holds more
// than a few of them.
const DefaultConnectRate = 2000

// NoPreconnect is a ConnectRate that opens no connection ahead: each request connects when it
// is sent, and its connect time is part of its TTFT.
const NoPreconnect = -1

// preconnectTimeout bounds each dial made before the start: a server that accepts no
// connection must not hold the run's start for the request timeout (minutes). The requests
// then dial on their own, and their failures are recorded.
const preconnectTimeout = 5 * time.Second

// maxDialing bounds the dials in flight while connections are opened ahead, and is also the
// burst that goes before the pacing: a load of at most that many users opens its connections
// at once.
const maxDialing = 64

// openedConns holds the connections opened before a run's start, by address. The transport
// dials through it: a connection opened ahead that is still usable is taken first.
type openedConns struct {
	dial  dialFunc
	mu    sync.Mutex
	ready map[string][]net.Conn
}

func newOpenedConns(dial dialFunc) *openedConns {
	if dial == nil {
		d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
		dial = d.DialContext
	}
	return &openedConns{dial: dial, ready: map[string][]net.Conn{}}
}

// Dial takes a connection opened ahead for addr, or dials a new one.
func (o *openedConns) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	for {
		c := o.take(addr)
		if c == nil {
			return o.dial(ctx, network, addr)
		}
		if idleUsable(c) {
			return c, nil
		}
		_ = c.Close() // the server closed it while it waited (uvicorn does after 5 s)
	}
}

func (o *openedConns) take(addr string) net.Conn {
	o.mu.Lock()
	defer o.mu.Unlock()
	pool := o.ready[addr]
	if len(pool) == 0 {
		return nil
	}
	c := pool[len(pool)-1]
	pool[len(pool)-1] = nil // the run goes on long after: the slot must not keep the closed conn
	o.ready[addr] = pool[:len(pool)-1]
	return c
}

func (o *openedConns) put(addr string, c net.Conn) {
	o.mu.Lock()
	o.ready[addr] = append(o.ready[addr], c)
	o.mu.Unlock()
}

// open dials n connections, spread over addrs in turn: maxDialing at once, then rate per
// second (the i-th is started at (i−maxDialing)/rate after the first), at most maxDialing in
// flight. It stops at the first failure: the
// requests will then connect, and fail, on their own, and be recorded.
func (o *openedConns) open(ctx context.Context, w Waiter, addrs []string, n int, rate float64) (int, error) {
	start := time.Now()
	sem := make(chan struct{}, maxDialing)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	opened := 0
	for i := range n {
		if i >= maxDialing {
			at := start.Add(time.Duration(float64(i-maxDialing) / rate * float64(time.Second)))
			if err := w.WaitUntil(ctx, at); err != nil {
				break
			}
		}
		mu.Lock()
		failed := firstErr != nil
		mu.Unlock()
		if failed {
			break
		}
		sem <- struct{}{}
		addr := addrs[i%len(addrs)]
		wg.Go(func() {
			defer func() { <-sem }()
			dctx, cancel := context.WithTimeout(ctx, preconnectTimeout)
			defer cancel()
			c, err := o.dial(dctx, "tcp", addr)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				firstErr = cmpErr(firstErr, err)
				return
			}
			opened++
			o.put(addr, c)
		})
	}
	wg.Wait()
	return opened, firstErr
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// closeAll closes the connections opened ahead that no request took.
func (o *openedConns) closeAll() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for addr, pool := range o.ready {
		for _, c := range pool {
			_ = c.Close()
		}
		delete(o.ready, addr)
	}
}

// preconnect opens the connections of a closed-loop run before its clock starts, one per
// user or concurrency slot of this worker, paced at the connect rate: the first requests of
// a burst then wait for no connect, and the server's accept queue is not flooded.
func (r *Runner) preconnect(ctx context.Context, w Waiter) {
	users, concurrency, _, _ := r.cfg.level()
	n := max(users, concurrency)
	if r.cfg.Mode == loadspec.ModeRate || r.cfg.ConnectRate == NoPreconnect || n == 0 {
		return
	}
	addrs := make([]string, len(r.targets))
	for i, t := range r.targets {
		addrs[i] = t.dialAddr
	}
	t0 := time.Now()
	opened, err := r.opened.open(ctx, w, addrs, n, r.cfg.ConnectRate)
	r.pre = preconnected{n: opened, took: time.Since(t0)}
	if err != nil {
		r.pre.err = err.Error()
	}
}

// preconnected is what preconnect did: how many connections it opened, in how long, and why
// it stopped early.
type preconnected struct {
	n    int
	took time.Duration
	err  string
}

// dialAddr is the host:port a target's connections go to.
func dialAddr(target string) (string, error) {
	u, err := url.Parse(target)
	if err != nil {
		return "", err
	}
	if u.Host == "" {
		return "", errors.New("no host")
	}
	if u.Port() != "" {
		return u.Host, nil
	}
	if u.Scheme == "https" {
		return net.JoinHostPort(u.Hostname(), "443"), nil
	}
	return net.JoinHostPort(u.Hostname(), "80"), nil
}
